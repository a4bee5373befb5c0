"""``plugrl train`` with more than one trial (``grid_search``, ``num_samples``, several
experiments): every trial's config checked up front, then all run under Ray Tune, then one
summary table of the trials."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from plugrl.cli.main import next_steps
from plugrl.errors import ConfigError, PluginError, TrialError
from plugrl.jsonable import flatten, to_jsonable
from plugrl.trainer.logdir import results_root


@dataclass
class Experiment:
    """One experiment of ``plugrl train``, from flags and the YAML file."""

    name: str
    run: str | None
    env: Any
    config: dict[str, Any]
    stop: dict[str, Any]
    checkpoint_freq: int = 0
    checkpoint_at_end: bool = True
    keep_checkpoints_num: int | None = None
    restore: str | None = None
    local_dir: str | None = None
    num_samples: int = 1
    trainer_class: type | None = field(default=None, repr=False)

    @property
    def num_trials(self) -> int:
        return self.num_samples * math.prod(len(values) for _, values in grid_axes(self.config))


def grid_axes(tree: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], list]]:
    """The ``{"grid_search": [...]}`` values in a config, with their key paths."""
    if isinstance(tree, dict):
        if set(tree) == {"grid_search"}:
            values = tree["grid_search"]
            if not isinstance(values, list) or not values:
                raise ConfigError(
                    f"grid_search at {'/'.join(path)!r} needs a non-empty list, got {values!r}."
                )
            return [(path, values)]
        return [axis for key, value in tree.items() for axis in grid_axes(value, (*path, key))]
    return []


def single_trial_config(tree: Any) -> Any:
    """A config whose every ``grid_search`` has one value, with that value in its place."""
    if isinstance(tree, dict):
        if set(tree) == {"grid_search"}:
            (value,) = tree["grid_search"]
            return value
        return {key: single_trial_config(value) for key, value in tree.items()}
    return tree


def variants(config: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every combination of the grid values of ``config``: ``(label, config)`` pairs."""
    from ray.tune.search.variant_generator import generate_variants

    return [
        (
            ", ".join(f"{'/'.join(key[1:])}={value}" for key, value in resolved.items()),
            spec["config"],
        )
        for resolved, spec in generate_variants({"config": config})
    ]


def check_trials(experiments: Sequence[Experiment]) -> None:
    """Build the config of every trial the way its trainer will (unknown keys, values, the
    algorithm's checks), so a typo stops the run before Ray starts."""
    for experiment in experiments:
        if experiment.restore:
            raise ConfigError(
                f"Experiment {experiment.name!r} runs {experiment.num_trials} trials, but "
                f"--restore continues one run: drop grid_search / num_samples, or --restore."
            )
        for label, config in variants(experiment.config):
            try:
                experiment.trainer_class.merge_config({**config, "env": experiment.env})
            except ConfigError as exc:
                where = f"trial {label}" if label else "every trial"
                raise ConfigError(f"Experiment {experiment.name!r}, {where}: {exc}") from None


def run_trials(experiments: Sequence[Experiment], verbose: int = 0) -> list[Any]:
    """Run every experiment's trials under Tune (its status reports at ``verbose`` 0, its
    per-result reports from 1); the finished (or failed) trials."""
    from plugrl.tune.launch import run_experiments

    specs = {
        experiment.name: {
            "run": experiment.trainer_class,
            "config": {**experiment.config, "env": experiment.env},
            "stop": experiment.stop,
            "num_samples": experiment.num_samples,
            "checkpoint_freq": experiment.checkpoint_freq,
            "checkpoint_at_end": experiment.checkpoint_at_end,
            "keep_checkpoints_num": experiment.keep_checkpoints_num,
            "storage_path": experiment_root(experiment),
        }
        for experiment in experiments
    }
    return list(run_experiments(specs, verbose=min(3, verbose + 1), raise_on_failed_trial=False))


def experiment_root(experiment: Experiment) -> str:
    return str(Path(experiment.local_dir).expanduser() if experiment.local_dir else results_root())


def summary_rows(trials: Sequence[Any]) -> tuple[list[str], list[list[str]]]:
    """The summary table: trial, the config values that vary between trials, best
    ``episode_reward_mean``, last ``timesteps_total`` and status."""
    configs = [flatten(to_jsonable(trial.config)) for trial in trials]
    keys = sorted({key for config in configs for key in config})
    varying = [key for key in keys if len({repr(config.get(key)) for config in configs}) > 1]
    header = ["trial", *varying, "best reward", "steps", "status"]
    rows = []
    for trial, config in zip(trials, configs, strict=True):
        rewards = [
            value
            for value in (trial.metric_analysis.get("episode_reward_mean") or {}).values()
            if isinstance(value, int | float) and math.isfinite(value)
        ]
        best = max(rewards, default=None)
        steps = (trial.last_result or {}).get("timesteps_total")
        rows.append(
            [
                str(trial),
                *(_cell(config.get(key)) for key in varying),
                "-" if best is None else f"{best:.2f}",
                "-" if steps is None else str(steps),
                trial.status,
            ]
        )
    return header, rows


def _cell(value: Any) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def print_summary(trials: Sequence[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    header, rows = summary_rows(trials)
    table = Table(*header, title=f"{len(trials)} trials")
    for row in rows:
        table.add_row(*row)
    Console(width=max(100, Console().width)).print(table)


def raise_for_failures(trials: Sequence[Any]) -> None:
    """A :class:`TrialError` naming the failed trials, the error of the first and its file."""
    failed = [trial for trial in trials if trial.status == "ERROR"]
    if not failed:
        return
    first = failed[0]
    found = [Path(p) for p in (Path(first.path, "error.txt"), first.error_file) if p]
    error_file = next((path for path in found if path.is_file()), None)
    lines = error_file.read_text().strip().splitlines() if error_file else []
    raise TrialError(
        f"{len(failed)} of {len(trials)} trials failed ({', '.join(map(str, failed))}); "
        f"{first}: {lines[-1].strip() if lines else 'no error recorded'}"
        + (f" (traceback: {error_file})." if error_file else ".")
    )


def run_and_summarize(experiments: Sequence[Experiment], verbose: int = 0) -> int:
    """Check, run and summarize the trials of ``experiments``; 0, or a :class:`TrialError`."""
    from plugrl.sampling import ray_session
    from plugrl.tune import TUNE_EXTRA, import_tune

    total = sum(experiment.num_trials for experiment in experiments)
    try:
        import_tune()
    except PluginError:
        raise PluginError(
            f"This run has {total} trials (grid_search / num_samples): more than one trial "
            f"runs under Ray Tune, which is not installed: {TUNE_EXTRA}."
        ) from None
    check_trials(experiments)
    addresses = {experiment.config.get("ray_address") for experiment in experiments} - {None}
    if len(addresses) > 1:
        raise ConfigError(f"The experiments name different Ray clusters: {sorted(addresses)}.")
    click.echo(f"Running {total} trials under Ray Tune.")
    ray_session.acquire(next(iter(addresses), None))
    try:  # the trials' error files are read while Ray runs
        trials = run_trials(experiments, verbose)
        print_summary(trials)
        for folder in sorted({str(Path(trial.path).parent) for trial in trials}):
            for line in next_steps(folder, None):
                click.echo(line)
        raise_for_failures(trials)
    finally:
        ray_session.release()
    return 0
