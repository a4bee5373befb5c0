"""Tensor helpers that torch losses share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from plugrl.policy.sequences import SEQ_MASK


def explained_variance(targets: torch.Tensor, predictions: torch.Tensor) -> torch.Tensor:
    """``1 - Var[targets - predictions] / Var[targets]``, floored at -1 (0 for constant targets)."""
    with torch.no_grad():  # a statistic: no graph, and no host read to branch on
        variance = torch.var(targets)
        explained = torch.clamp(1 - torch.var(targets - predictions) / variance, min=-1.0)
        return torch.where(variance > 0, explained, torch.zeros_like(explained))


def valid_rows(train_batch: Mapping[str, Any]) -> Callable[[torch.Tensor], torch.Tensor]:
    """A function keeping the rows of a per-row tensor that are steps: in a recurrent policy's
    batch of padded sequences, those its ``seq_mask`` marks; in any other batch, all of them.
    A loss takes its means over these rows, so padding never counts."""
    if SEQ_MASK not in train_batch:
        return _all_rows
    mask = train_batch[SEQ_MASK]
    return lambda values: values[mask]


def _all_rows(values: torch.Tensor) -> torch.Tensor:
    return values
