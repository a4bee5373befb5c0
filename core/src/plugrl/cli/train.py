"""``plugrl train``: run an algorithm from flags or an RLlib-style YAML file until a stop
criterion is met, checkpointing on the way, at the end and on Ctrl-C."""

from __future__ import annotations

import logging
import math
import re
import shutil
import signal
import threading
from pathlib import Path
from typing import Any

import click
import yaml

from plugrl.checkpoint import read_state
from plugrl.cli.main import EXIT_INTERRUPTED, log_level_name, parse_json_option, verbose_option
from plugrl.cli.progress import ProgressPrinter
from plugrl.config import merge_dicts
from plugrl.env.creator import env_name, make_env_creator
from plugrl.errors import CheckpointError, ConfigError, did_you_mean
from plugrl.jsonable import flatten
from plugrl.registry import get_trainer_class
from plugrl.trainer.logdir import make_logdir
from plugrl.trainer.trainer import algorithm_mismatch, lineage_of

logger = logging.getLogger("plugrl.cli")

# Keys of one experiment in a YAML file (RLlib's, minus the Tune-only ones).
EXPERIMENT_KEYS = (
    "env",
    "run",
    "stop",
    "config",
    "checkpoint_freq",
    "checkpoint_at_end",
    "local_dir",
    "restore",
    "keep_checkpoints_num",
)


class _YamlLoader(yaml.SafeLoader):
    """``yaml.safe_load``'s loader, reading ``1e-3`` as a float like YAML 1.2 (YAML 1.1 wants
    a dot: ``1.0e-3``)."""


_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load_experiments(path: str) -> dict[str, dict[str, Any]]:
    """``{name: spec}`` from a YAML file ``{name: {env, run, stop, config, ...}}``.

    A file holding one experiment without the name level is accepted too (named after the file).
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"Config file {path!r} does not exist.")
    try:
        data = yaml.load(file.read_text(), Loader=_YamlLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"Config file {path!r} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not data:
        raise ConfigError(
            f"Config file {path!r} must map experiment names to "
            "{env, run, stop, config}; it holds no such mapping."
        )
    if set(data) & {"run", "config", "stop"}:
        data = {file.stem: data}
    for name, spec in data.items():
        if not isinstance(spec, dict):
            raise ConfigError(
                f"Experiment {name!r} in {path!r} must be a mapping of "
                f"{', '.join(EXPERIMENT_KEYS)}; got {spec!r}."
            )
        for key in spec:
            if key not in EXPERIMENT_KEYS:
                raise ConfigError(
                    f"Unknown key {key!r} in experiment {name!r} of {path!r}."
                    f"{did_you_mean(str(key), EXPERIMENT_KEYS)} Valid keys: "
                    f"{', '.join(EXPERIMENT_KEYS)}."
                )
        for key in ("stop", "config"):
            if not isinstance(spec.get(key) or {}, dict):
                raise ConfigError(f"'{key}' of experiment {name!r} in {path!r} must be a mapping.")
    return {str(k): v for k, v in data.items()}


def lookup(result: dict[str, Any], key: str) -> Any:
    """``result[key]``, where ``"a/b"`` also reads ``result["a"]["b"]``; None when absent."""
    if key in result:
        return result[key]
    node: Any = result
    for part in key.split("/"):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def check_stop(stop: dict[str, Any]) -> None:
    """Every stop value must be a number."""
    for key, value in stop.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"Stop criterion {key!r} must be a number, got {value!r}.")


def should_stop(result: dict[str, Any], stop: dict[str, Any]) -> bool:
    """True when any ``result[key] >= value`` for the stop criteria."""
    for key, threshold in stop.items():
        value = lookup(result, key)
        if isinstance(value, (int, float)) and not math.isnan(value) and value >= threshold:
            return True
    return False


def _warn_missing_stop_keys(result: dict[str, Any], stop: dict[str, Any]) -> None:
    for key in stop:
        if lookup(result, key) is None and not key.startswith("evaluation/"):
            click.echo(
                f"plugrl: warning: stop criterion {key!r} is not a result key, so it "
                f"never stops the run.{did_you_mean(key, flatten(result))}",
                err=True,
            )


@click.command()
@click.option("--run", "run", help="Algorithm to train, e.g. PPO (see `plugrl plugins`).")
@click.option("--env", help="Env: a gymnasium id, a registered name or 'module:Class'.")
@click.option("--config", "config_json", metavar="JSON", help="Config overrides as JSON.")
@click.option(
    "--stop",
    "stop_json",
    metavar="JSON",
    help="Stop when any result[key] >= value, e.g. '{\"training_iteration\": 10}'.",
)
@click.option(
    "-f",
    "--config-file",
    type=click.Path(dir_okay=False),
    help="RLlib-style YAML {name: {env, run, stop, config}}; flags override it.",
)
@click.option(
    "--checkpoint-freq",
    type=click.IntRange(min=0),
    default=None,
    help="Save a checkpoint every N iterations (0: never).",
)
@click.option(
    "--checkpoint-at-end/--no-checkpoint-at-end",
    default=None,
    help="Save a checkpoint when training ends (default: on).",
)
@click.option(
    "--keep-checkpoints-num",
    type=click.IntRange(min=1),
    default=None,
    help="Keep only the newest N checkpoints of the run (default: all).",
)
@click.option("--restore", type=click.Path(), help="Continue from this checkpoint.")
@click.option(
    "--local-dir",
    type=click.Path(file_okay=False),
    help="Results root (default $PLUGRL_RESULTS_DIR or ~/plugrl_results).",
)
@click.option(
    "--experiment-name",
    help="Folder under the results root (default: the YAML experiment name, or 'default').",
)
@click.option("--framework", help="Backend plugin: torch, or tf (tf2) with plugrl-tf.")
@click.option("--seed", type=int, help="Random seed.")
@click.option("--num-workers", type=click.IntRange(min=0), help="Remote rollout workers.")
@click.option("--ray-address", help="Address of a Ray cluster to join.")
@verbose_option
def train(
    run: str | None,
    env: str | None,
    config_json: str | None,
    stop_json: str | None,
    config_file: str | None,
    checkpoint_freq: int | None,
    checkpoint_at_end: bool | None,
    keep_checkpoints_num: int | None,
    restore: str | None,
    local_dir: str | None,
    experiment_name: str | None,
    framework: str | None,
    seed: int | None,
    num_workers: int | None,
    ray_address: str | None,
    verbose: int,
) -> int:
    """Train an algorithm until a stop criterion is met (Ctrl-C saves a checkpoint and stops)."""
    config_override = parse_json_option("--config", config_json)
    stop_override = parse_json_option("--stop", stop_json)
    check_stop(stop_override)
    experiments = load_experiments(config_file) if config_file else {"default": {}}
    flags: dict[str, Any] = {
        "framework": framework,
        "seed": seed,
        "num_workers": num_workers,
        "ray_address": ray_address,
        "log_level": log_level_name(verbose),
    }
    for name, spec in experiments.items():
        stop = dict(spec.get("stop") or {})
        stop.update(stop_override)
        check_stop(stop)
        config = merge_dicts(spec.get("config") or {}, config_override, allow_new=True)
        keep = _pick(keep_checkpoints_num, spec.get("keep_checkpoints_num"), None)
        if keep is not None:
            config["keep_checkpoints_num"] = keep
        config.update({k: v for k, v in flags.items() if v is not None})
        status = run_experiment(
            run=run or spec.get("run"),
            env=env or spec.get("env") or config.get("env"),
            config=config,
            stop=stop,
            checkpoint_freq=_pick(checkpoint_freq, spec.get("checkpoint_freq"), 0),
            checkpoint_at_end=_pick(checkpoint_at_end, spec.get("checkpoint_at_end"), True),
            restore=restore or spec.get("restore"),
            local_dir=local_dir or spec.get("local_dir"),
            experiment=experiment_name or name,
        )
        if status:
            return status
    return 0


def _sigterm_interrupts() -> Any:
    """Make SIGTERM stop training like Ctrl-C; returns the previous handler (None if unset)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)


def _pick(flag: Any, from_file: Any, default: Any) -> Any:
    if flag is not None:
        return flag
    return default if from_file is None else from_file


def run_experiment(
    *,
    run: str | None,
    env: Any,
    config: dict[str, Any],
    stop: dict[str, Any],
    checkpoint_freq: int = 0,
    checkpoint_at_end: bool = True,
    restore: str | None = None,
    local_dir: str | None = None,
    experiment: str = "default",
) -> int:
    """Build the trainer, train until ``stop``, save checkpoints; 0, or 130 when interrupted."""
    if not run:
        raise ConfigError(
            "No algorithm given: pass --run (e.g. --run PPO) or set 'run' in the YAML file."
        )
    trainer_cls = get_trainer_class(run)
    make_env_creator(env)  # fail on an unknown env before creating any folder
    config["env"] = env
    # A checkpoint to continue from is read and checked before anything is built or written.
    restored = read_state(restore) if restore else None
    if restored is not None:
        problem = algorithm_mismatch(restored, lineage_of(trainer_cls))
        if problem:
            raise CheckpointError(f"Cannot continue {run} from {restore!r}: {problem}.")
    logdir = make_logdir(trainer_cls.__name__, env_name(env), local_dir, experiment)
    try:
        trainer = trainer_cls(config=config, logdir=str(logdir))
    except BaseException:
        if logdir.is_dir() and not any(logdir.iterdir()):
            shutil.rmtree(logdir, ignore_errors=True)
        raise
    if restored is not None:
        try:
            trainer.restore(restore, restored)
        except BaseException:
            trainer.stop()
            shutil.rmtree(logdir, ignore_errors=True)  # nothing was trained in it
            raise
        click.echo(f"Restored {restore} (iteration {trainer.iteration}).")
    click.echo(f"Training {run} on {env_name(env)}; results in {trainer.logdir}")
    if stop:
        criteria = ", ".join(f"{k} >= {v}" for k, v in stop.items())
        click.echo(f"Stops when {criteria}.")
    else:
        click.echo("No stop criteria (--stop): trains until Ctrl-C.")
    progress = ProgressPrinter()
    previous_sigterm = _sigterm_interrupts()
    last_saved_at: int | None = None
    checkpoint: str | None = None
    interrupted = False
    try:
        try:
            first = True
            while True:
                result = trainer.train()
                progress.update(result)
                if first:
                    _warn_missing_stop_keys(result, stop)
                    first = False
                if checkpoint_freq and trainer.iteration % checkpoint_freq == 0:
                    checkpoint, last_saved_at = trainer.save(), trainer.iteration
                    logger.info("Saved checkpoint %s", checkpoint)
                if should_stop(result, stop):
                    break
        except KeyboardInterrupt:
            interrupted = True
            progress.finish()
            click.echo("Interrupted: saving a checkpoint before exiting...", err=True)
        progress.finish()
        if (checkpoint_at_end or interrupted) and last_saved_at != trainer.iteration:
            checkpoint = trainer.save()
    finally:  # also when training fails: workers stop, checkpoints already saved stay
        trainer.stop()
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
    click.echo(f"Results: {trainer.logdir}")
    if checkpoint:
        click.echo(f"Checkpoint: {checkpoint}")
    return EXIT_INTERRUPTED if interrupted else 0
