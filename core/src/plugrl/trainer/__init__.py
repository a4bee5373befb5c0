"""Trainer: config, workers, optimizer, results and checkpoints for one algorithm (names load
on first use, so ``plugrl.trainer.logdir`` imports light)."""

from plugrl.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__, {"Trainer": "plugrl.trainer.trainer", "build_trainer": "plugrl.trainer.template"}
)
