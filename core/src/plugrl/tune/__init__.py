"""Ray Tune for plugrl trainers: ``from plugrl import tune`` stands in for ``from ray import tune``.

Every name of ``ray.tune`` is here (``grid_search``, ``uniform``, ``Trainable``,
``PlacementGroupFactory``, ...), imported on first use. :func:`run`, :func:`run_experiments`
and :class:`Tuner` also take a trainer class (``PPOTrainer``) or an installed algorithm's name
(``"PPO"``) where Tune wants a trainable, write each trial's results in plugrl's layout
(``params.json``, ``result.json``, ``progress.csv``, TensorBoard events) under
``~/plugrl_results/<experiment>/``, and start Ray on this machine's loopback address unless it
is running already. :func:`register_env` is plugrl's. Needs ``pip install 'plugrl[tune]'``.

A trial runs one trainer in a Ray actor, reserving the driver's and every rollout and
evaluation worker's resources as one placement group, so trials never oversubscribe the
machine; its checkpoints are the trainer's own (see :mod:`plugrl.checkpoint`).
"""

from __future__ import annotations

from typing import Any

from plugrl.errors import PluginError
from plugrl.registry import register_env

__all__ = ["as_trainable", "import_tune", "register_env", "run", "run_experiments"]

TUNE_EXTRA = "pip install 'plugrl[tune]'"


def import_tune() -> Any:
    """``ray.tune``, or a :class:`PluginError` naming the extra that installs it."""
    from plugrl.sampling.ray_session import import_ray

    try:
        import_ray()
        import ray.tune as tune
    except (ImportError, PluginError):
        raise PluginError(
            f"Running trainers under Ray Tune needs ray[tune], which is not installed: "
            f"{TUNE_EXTRA}."
        ) from None
    return tune


def as_trainable(trainer: type | str) -> type:
    """A ``ray.tune.Trainable`` class running ``trainer`` (a Trainer subclass, or the name of
    an installed algorithm), for code that calls ``ray.tune`` itself."""
    import_tune()
    from plugrl.tune.trainable import make_trainable

    return make_trainable(trainer)


def run(run_or_experiment: Any, **kwargs: Any) -> Any:
    """``ray.tune.run`` for plugrl trainers: see the module docstring. ``local_dir`` is read
    as ``storage_path``; other arguments are Tune's."""
    import_tune()
    from plugrl.tune.launch import run as launch_run

    return launch_run(run_or_experiment, **kwargs)


def run_experiments(experiments: Any, **kwargs: Any) -> Any:
    """``ray.tune.run_experiments`` for plugrl trainers: each experiment's ``"run"`` may name
    an algorithm or be a trainer class, and ``"env"`` goes into its config."""
    import_tune()
    from plugrl.tune.launch import run_experiments as launch_run_experiments

    return launch_run_experiments(experiments, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "Tuner":
        import_tune()
        from plugrl.tune.launch import Tuner

        return Tuner
    if name.startswith("__"):
        raise AttributeError(name)
    tune = import_tune()
    try:
        return getattr(tune, name)
    except AttributeError:
        raise AttributeError(f"module 'plugrl.tune' (ray.tune) has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(globals()))
