"""Reusable torch policy pieces: learning-rate and entropy schedules, a value helper, gradient
clipping and explained variance."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from plugrl.policy import mixins as schedules
from plugrl.policy.mixins import EntropyCoeffSchedule
from plugrl.sample_batch import SampleBatch

__all__ = [
    "EntropyCoeffSchedule",
    "LearningRateSchedule",
    "ValueNetworkMixin",
    "clip_grad_norm",
    "vf_preds_fetches",
]


class LearningRateSchedule(schedules.LearningRateSchedule):
    """Sets every optimizer's learning rate from ``lr_schedule`` as the timestep advances."""

    def _set_optimizer_lr(self, lr: float) -> None:
        for optimizer in self._optimizers:  # type: ignore[attr-defined]
            for group in optimizer.param_groups:
                group["lr"] = lr


class ValueNetworkMixin:
    """``value(obs)``: the critic's estimate for one observation (for bootstrapping)."""

    def value(self, obs: np.ndarray) -> float:
        with torch.inference_mode():
            tensor = torch.as_tensor(np.asarray(obs, dtype=np.float32)[None], device=self.device)  # type: ignore[attr-defined]
            self.model({SampleBatch.OBS: tensor, "is_training": False}, [], None)  # type: ignore[attr-defined]
            return float(self.model.value_function()[0])  # type: ignore[attr-defined]


def vf_preds_fetches(
    policy: Any, input_dict: dict, state: list, model: Any, action_dist: Any
) -> dict[str, torch.Tensor]:
    """Store the value predictions made while acting (as ``vf_preds``)."""
    return {SampleBatch.VF_PREDS: model.value_function()}


def clip_grad_norm(
    policy: Any, optimizer: torch.optim.Optimizer, loss: torch.Tensor
) -> dict[str, float]:
    """Clip the global gradient norm to ``config["grad_clip"]`` when it is set."""
    clip = policy.config.get("grad_clip")
    if not clip:
        return {}
    params = [p for group in optimizer.param_groups for p in group["params"]]
    return {"grad_gnorm": float(torch.nn.utils.clip_grad_norm_(params, clip))}


def explained_variance(targets: torch.Tensor, predictions: torch.Tensor) -> torch.Tensor:
    """``1 - Var[targets - predictions] / Var[targets]``, floored at -1 (0 for constant targets)."""
    variance = torch.var(targets)
    if variance > 0:
        return torch.clamp(1 - torch.var(targets - predictions) / variance, min=-1.0)
    return torch.tensor(0.0)
