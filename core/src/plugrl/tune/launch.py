"""Starting Tune runs of plugrl trainers: trainables from trainer classes and algorithm names,
RLlib-era arguments read as today's, plugrl's results folder and layout, Ray on loopback."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import ray.tune
from ray.train.constants import DEFAULT_STORAGE_PATH

from plugrl.registry import registry
from plugrl.sampling import ray_session
from plugrl.trainer import Trainer
from plugrl.trainer.logdir import results_root
from plugrl.tune.results import ResultsCallback
from plugrl.tune.trainable import make_trainable

# Tune's own loggers would write result.json and progress.csv a second time.
_NO_TUNE_LOGGERS = "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"
# Checkpoint arguments of RLlib-era experiment specs, and their CheckpointConfig names.
_CHECKPOINT_KEYS = {
    "checkpoint_freq": "checkpoint_frequency",
    "checkpoint_at_end": "checkpoint_at_end",
    "keep_checkpoints_num": "num_to_keep",
}


def trainable_for(run: Any) -> Any:
    """What Tune runs for ``run``: a trainable for a Trainer subclass or an installed
    algorithm's name; anything else (Tune's own trainables and names) as it is."""
    if isinstance(run, type) and issubclass(run, Trainer):
        return make_trainable(run)
    if isinstance(run, str) and run in registry("algorithms"):
        return make_trainable(run)
    return run


@contextmanager
def tune_session() -> Iterator[None]:
    """Ray running (started on loopback by plugrl unless it runs), and Tune's own result
    loggers off, for the time of one Tune run."""
    ray_session.acquire()
    previous = os.environ.get(_NO_TUNE_LOGGERS)
    os.environ[_NO_TUNE_LOGGERS] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(_NO_TUNE_LOGGERS, None)
        else:
            os.environ[_NO_TUNE_LOGGERS] = previous
        ray_session.release()


def _with_callbacks(callbacks: Any) -> list[Any]:
    return [*(callbacks or []), ResultsCallback()]


def _storage(arguments: dict[str, Any]) -> dict[str, Any]:
    """``arguments`` with ``local_dir`` read as ``storage_path`` (plugrl's results folder by
    default)."""
    arguments = dict(arguments)
    local_dir = arguments.pop("local_dir", None)
    if not arguments.get("storage_path"):
        arguments["storage_path"] = os.path.expanduser(local_dir or str(results_root()))
    return arguments


def run(run_or_experiment: Any, **kwargs: Any) -> Any:
    kwargs = _storage(kwargs)
    kwargs["callbacks"] = _with_callbacks(kwargs.get("callbacks"))
    with tune_session():
        return ray.tune.run(trainable_for(run_or_experiment), **kwargs)


def experiment_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """An RLlib-era experiment spec (``run``, ``env``, ``stop``, ``config``,
    ``checkpoint_freq``, ``checkpoint_at_end``, ``keep_checkpoints_num``, ``local_dir``, ...)
    as Tune takes it today."""
    spec = _storage(spec)
    spec["run"] = trainable_for(spec.get("run"))
    if "env" in spec:
        spec["config"] = {**(spec.get("config") or {}), "env": spec.pop("env")}
    checkpoint = {
        name: spec.pop(key) for key, name in _CHECKPOINT_KEYS.items() if spec.get(key) is not None
    }
    for key in _CHECKPOINT_KEYS:
        spec.pop(key, None)
    if checkpoint:
        spec["checkpoint_config"] = ray.tune.CheckpointConfig(**checkpoint)
    return spec


def run_experiments(experiments: Any, **kwargs: Any) -> Any:
    if isinstance(experiments, Mapping):
        experiments = {
            name: experiment_spec(spec) if isinstance(spec, Mapping) else spec
            for name, spec in experiments.items()
        }
    kwargs["callbacks"] = _with_callbacks(kwargs.get("callbacks"))
    with tune_session():
        return ray.tune.run_experiments(experiments, **kwargs)


class Tuner(ray.tune.Tuner):
    """``ray.tune.Tuner`` taking a trainer class or an algorithm's name as ``trainable``, with
    plugrl's results folder and layout unless ``run_config`` says otherwise."""

    def __init__(self, trainable: Any = None, *, run_config: Any = None, **kwargs: Any):
        run_config = copy.copy(run_config) if run_config else ray.tune.RunConfig()  # theirs
        # RunConfig fills in Ray's own results folder when none is given
        if run_config.storage_path in (None, DEFAULT_STORAGE_PATH):
            run_config.storage_path = str(results_root())
        run_config.callbacks = _with_callbacks(run_config.callbacks)
        super().__init__(trainable_for(trainable), run_config=run_config, **kwargs)

    def fit(self) -> Any:
        with tune_session():
            return super().fit()

    @classmethod
    def restore(cls, path: str, trainable: Any, **kwargs: Any) -> Tuner:
        restored = super().restore(path, trainable_for(trainable), **kwargs)
        restored.__class__ = cls  # Tune builds its own class; fit() must be this one's
        return restored
