"""Tensor helpers that torch losses share."""

from __future__ import annotations

import torch


def explained_variance(targets: torch.Tensor, predictions: torch.Tensor) -> torch.Tensor:
    """``1 - Var[targets - predictions] / Var[targets]``, floored at -1 (0 for constant targets)."""
    variance = torch.var(targets)
    if variance > 0:
        return torch.clamp(1 - torch.var(targets - predictions) / variance, min=-1.0)
    return torch.tensor(0.0)
