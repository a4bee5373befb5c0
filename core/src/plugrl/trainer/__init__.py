"""Trainer: config, workers, optimizer, results and checkpoints for one algorithm."""

from plugrl.trainer.template import build_trainer
from plugrl.trainer.trainer import Trainer

__all__ = ["Trainer", "build_trainer"]
