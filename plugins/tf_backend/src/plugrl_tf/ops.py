"""Tensor helpers that TF losses share."""

from __future__ import annotations

from plugrl_tf._tf import tf


def explained_variance(targets: tf.Tensor, predictions: tf.Tensor) -> tf.Tensor:
    """``1 - Var[targets - predictions] / Var[targets]``, floored at -1 (0 for constant
    targets)."""
    variance = tf.math.reduce_variance(targets)
    explained = 1 - tf.math.reduce_variance(targets - predictions) / variance
    return tf.where(variance > 0, tf.maximum(explained, -1.0), 0.0)
