"""Tensor helpers that TF losses share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from plugrl.policy.sequences import SEQ_MASK
from plugrl_tf._tf import tf


def explained_variance(targets: tf.Tensor, predictions: tf.Tensor) -> tf.Tensor:
    """``1 - Var[targets - predictions] / Var[targets]``, floored at -1 (0 for constant
    targets)."""
    variance = tf.math.reduce_variance(targets)
    explained = 1 - tf.math.reduce_variance(targets - predictions) / variance
    return tf.where(variance > 0, tf.maximum(explained, -1.0), 0.0)


def valid_rows(train_batch: Mapping[str, Any]) -> Callable[[tf.Tensor], tf.Tensor]:
    """A function keeping the rows of a per-row tensor that are steps: in a recurrent policy's
    batch of padded sequences, those its ``seq_mask`` marks; in any other batch, all of them.
    A loss takes its means over these rows, so padding never counts."""
    if SEQ_MASK not in train_batch:
        return _all_rows
    mask = train_batch[SEQ_MASK]
    return lambda values: tf.boolean_mask(values, mask)


def _all_rows(values: tf.Tensor) -> tf.Tensor:
    return values
