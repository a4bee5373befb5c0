"""``plugrl train``: run an algorithm from flags or an RLlib-style YAML file until a stop
criterion is met, checkpointing on the way, at the end and on Ctrl-C.

The trainer, env and checkpoint modules are imported when a run starts, so ``plugrl --help``
and argument errors answer fast.
"""

from __future__ import annotations

import functools
import math
import os
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from plugrl.cli.main import (
    EXIT_INTERRUPTED,
    log_level_name,
    next_steps,
    parse_json_option,
    verbose_option,
)
from plugrl.cli.progress import TrainingProgress
from plugrl.cli.trials import Experiment, run_and_summarize, single_trial_config
from plugrl.config import COMMON_CONFIG, merge_dicts
from plugrl.errors import CheckpointError, ConfigError, did_you_mean
from plugrl.jsonable import flatten
from plugrl.registry import get_trainer_class
from plugrl.trainer.logdir import new_logdir

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
    "num_samples",
)


@functools.cache
def yaml_loader() -> type:
    """``yaml.safe_load``'s loader, reading ``1e-3`` as a float like YAML 1.2 (YAML 1.1 wants
    a dot: ``1.0e-3``). Made on first use: the CLI starts without importing yaml."""
    import yaml

    class YamlLoader(yaml.SafeLoader):
        """SafeLoader with YAML 1.2's floats."""

    YamlLoader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"),
        list("-+0123456789"),
    )
    return YamlLoader


def load_experiments(path: str) -> dict[str, dict[str, Any]]:
    """``{name: spec}`` from a YAML file ``{name: {env, run, stop, config, ...}}``.

    A file holding one experiment without the name level is accepted too (named after the file).
    """
    import yaml

    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"Config file {path!r} does not exist.")
    try:
        data = yaml.load(file.read_text(), Loader=yaml_loader())
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


EXAMPLES = """
\b
Examples:
  plugrl train --run PPO --env CartPole-v1 --stop '{"training_iteration": 20}'
  plugrl train --run PPO --env CartPole-v1 --torch --config '{"lr": 0.001}'
  plugrl train --run PG --env CartPole-v1 --framework tf --stop '{"timesteps_total": 50000}'
  plugrl train -f cartpole-ppo.yaml --seed 1
  plugrl train --run my_pkg.trainers:MyTrainer --env my_pkg.envs:MyEnv
  plugrl train -f cartpole-ppo.yaml --restore RUN_FOLDER/checkpoint_000010

\b
`plugrl config PPO` lists an algorithm's config keys with their defaults;
the tuned examples are YAML files in each algorithm plugin (tuned_examples/).
"""


@click.command(epilog=EXAMPLES)
@click.option(
    "--run",
    "run",
    help="Algorithm: a registered name such as PPO (see `plugrl plugins`), or a Trainer "
    "subclass as 'module:Class'.",
)
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
@click.option(
    "--framework", help="Backend plugin: torch, or tf (traced; tf2: eager) with plugrl-tf."
)
@click.option("--torch", "use_torch", is_flag=True, help="Same as --framework torch.")
@click.option(
    "--eager",
    is_flag=True,
    help="Same as --framework tf2: TensorFlow in eager mode, untraced (slow; for debugging).",
)
@click.option(
    "--trace",
    is_flag=True,
    help="With --eager: trace acting and learning all the same (eager_tracing; tf traces "
    "by default).",
)
@click.option("--seed", type=int, help="Random seed.")
@click.option("--num-workers", type=click.IntRange(min=0), help="Remote rollout workers.")
@click.option(
    "--num-samples",
    type=click.IntRange(min=1),
    help="Trials per experiment (times its grid_search combinations); more than one trial "
    "runs under Ray Tune.",
)
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
    use_torch: bool,
    eager: bool,
    trace: bool,
    seed: int | None,
    num_workers: int | None,
    num_samples: int | None,
    ray_address: str | None,
    verbose: int,
) -> int:
    """Train an algorithm until a stop criterion is met (Ctrl-C saves a checkpoint and stops).

    Import paths typed here ('module:Class' for --run, --env, callbacks) are also looked up
    in the current directory, as with `python -m`.
    """
    config_override = parse_json_option("--config", config_json)
    stop_override = parse_json_option("--stop", stop_json)
    check_stop(stop_override)
    experiments = load_experiments(config_file) if config_file else {"default": {}}
    flags: dict[str, Any] = {
        "framework": framework_flag(framework, use_torch=use_torch, eager=eager),
        "eager_tracing": True if trace else False if eager else None,
        "seed": seed,
        "num_workers": num_workers,
        "ray_address": ray_address,
        "log_level": log_level_name(verbose),
    }
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    planned = []
    for name, spec in experiments.items():
        stop = dict(spec.get("stop") or {})
        stop.update(stop_override)
        check_stop(stop)
        config = merge_dicts(spec.get("config") or {}, config_override, allow_new=True)
        config.update({k: v for k, v in flags.items() if v is not None})
        chosen = config.get("framework", COMMON_CONFIG["framework"])
        if trace and chosen not in TF_FRAMEWORKS:
            raise ConfigError(
                f"--trace traces TensorFlow's eager mode, but the framework is {chosen!r}: "
                "add --eager."
            )
        planned.append(
            Experiment(
                name=experiment_name or name,
                run=run or spec.get("run"),
                env=env or spec.get("env") or config.get("env"),
                config=config,
                stop=stop,
                checkpoint_freq=_pick(checkpoint_freq, spec.get("checkpoint_freq"), 0),
                checkpoint_at_end=_pick(checkpoint_at_end, spec.get("checkpoint_at_end"), True),
                keep_checkpoints_num=_pick(
                    keep_checkpoints_num, spec.get("keep_checkpoints_num"), None
                ),
                restore=restore or spec.get("restore"),
                local_dir=local_dir or spec.get("local_dir"),
                num_samples=_pick(num_samples, spec.get("num_samples"), 1),
            )
        )
    if sum(experiment.num_trials for experiment in planned) > 1:
        from plugrl.env.creator import make_env_creator

        for experiment in planned:
            experiment.trainer_class = resolve_trainer_class(_require_run(experiment.run))
            make_env_creator(experiment.env)  # an unknown env fails before Ray starts
        return run_and_summarize(planned, verbose)
    for experiment in planned:
        if experiment.keep_checkpoints_num is not None:
            experiment.config["keep_checkpoints_num"] = experiment.keep_checkpoints_num
        status = run_experiment(
            run=experiment.run,
            env=experiment.env,
            config=single_trial_config(experiment.config),
            stop=experiment.stop,
            checkpoint_freq=experiment.checkpoint_freq,
            checkpoint_at_end=experiment.checkpoint_at_end,
            restore=experiment.restore,
            local_dir=experiment.local_dir,
            experiment=experiment.name,
        )
        if status:
            return status
    return 0


def _require_run(run: str | None) -> str:
    if not run:
        raise ConfigError(
            "No algorithm given: pass --run (e.g. --run PPO) or set 'run' in the YAML file."
        )
    return run


# Names of the TensorFlow backend (plugrl-tf registers both).
TF_FRAMEWORKS = ("tf", "tf2")


def framework_flag(framework: str | None, *, use_torch: bool, eager: bool) -> str | None:
    """The framework chosen by ``--framework``, ``--torch`` or ``--eager`` (None: none);
    an error when they disagree."""
    chosen = {
        flag: name
        for flag, name, given in (
            ("--framework", framework, bool(framework)),
            ("--torch", "torch", use_torch),
            ("--eager", "tf2", eager),
        )
        if given
    }
    if len({"tf2" if name in TF_FRAMEWORKS else name for name in chosen.values()}) > 1:
        raise ConfigError(
            f"{' and '.join(chosen)} choose different frameworks "
            f"({', '.join(sorted(set(chosen.values())))}): pass one of them."
        )
    return next(iter(chosen.values()), None)


def resolve_trainer_class(run: str) -> type:
    """A registered algorithm (``"PPO"``), or a Trainer subclass by import path
    (``"my_pkg.trainers:MyTrainer"``), imported: only for names the user typed."""
    if not isinstance(run, str) or ":" not in run:
        return get_trainer_class(run)
    from plugrl.plugins import import_object
    from plugrl.trainer import Trainer

    try:
        found = import_object(run)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"Algorithm {run!r} looks like an import path but cannot be imported: {exc}."
        ) from None
    if not (isinstance(found, type) and issubclass(found, Trainer)):
        raise ConfigError(
            f"Algorithm {run!r} is {found!r}, not a Trainer subclass: name one made with "
            "plugrl.build_trainer, or a registered algorithm such as PPO."
        )
    return found


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
    """Build the trainer, train until ``stop``, save checkpoints; 0, or 130 when interrupted.

    The run folder appears with the first result or checkpoint: a run that fails to start
    leaves nothing behind.
    """
    trainer_cls = resolve_trainer_class(_require_run(run))
    # Imported once the algorithm is known, so a mistyped --run answers fast.
    import logging

    from plugrl.checkpoint import read_state
    from plugrl.env.creator import env_name, make_env_creator
    from plugrl.trainer.trainer import algorithm_mismatch, lineage_of

    make_env_creator(env)  # fail on an unknown env before building anything
    config["env"] = env
    # A checkpoint to continue from is read and checked before anything is built or written.
    restored = read_state(restore) if restore else None
    if restored is not None:
        problem = algorithm_mismatch(restored, lineage_of(trainer_cls))
        if problem:
            raise CheckpointError(f"Cannot continue {run} from {restore!r}: {problem}.")
    logdir = new_logdir(trainer_cls.__name__, env_name(env), local_dir, experiment)
    trainer = trainer_cls(config=config, logdir=str(logdir))
    if restored is not None:
        try:
            trainer.restore(restore, restored)
        except BaseException:
            trainer.stop()
            raise
        click.echo(f"Restored {restore} (iteration {trainer.iteration}).")
    title = f"{trainer_cls.__name__} on {env_name(env)}"
    click.echo(f"Training {title}; results in {trainer.logdir}")
    if stop:
        criteria = ", ".join(f"{k} >= {v}" for k, v in stop.items())
        click.echo(f"Stops when {criteria}.")
    else:
        click.echo("No stop criteria (--stop): trains until Ctrl-C.")
    logger = logging.getLogger("plugrl.cli")
    previous_sigterm = _sigterm_interrupts()
    last_saved_at: int | None = None
    checkpoint: str | None = None
    interrupted = False
    try:
        try:
            with TrainingProgress(stop, title=title, iteration=trainer.iteration) as progress:
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
            click.echo("Interrupted: saving a checkpoint before exiting...", err=True)
        if (checkpoint_at_end or interrupted) and last_saved_at != trainer.iteration:
            checkpoint = trainer.save()
    finally:  # also when training fails: workers stop, checkpoints already saved stay
        trainer.stop()
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
    for line in next_steps(trainer.logdir, checkpoint):
        click.echo(line)
    return EXIT_INTERRUPTED if interrupted else 0
