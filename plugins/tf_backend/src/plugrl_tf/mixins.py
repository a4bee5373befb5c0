"""Reusable TF policy mixins: learning-rate and entropy schedules, a value helper, and
attributes that traced code reads afresh on each call (:class:`TracedScalar`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl.policy import mixins as schedules
from plugrl.sample_batch import SampleBatch
from plugrl_tf._tf import tf

__all__ = [
    "EntropyCoeffSchedule",
    "LearningRateSchedule",
    "TracedScalar",
    "ValueNetworkMixin",
    "clip_gradients",
    "explained_variance",
    "grad_norm_stats",
    "vf_preds_fetches",
]


class TracedScalar:
    """A float attribute kept in a ``tf.Variable``, so a ``tf.function`` that reads it sees
    its current value rather than the one it was traced with.

    Assigning a number (or tensor) assigns the variable; reading gives the variable, which
    works in TF arithmetic and with ``float()``.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.key = f"_traced_{name}"

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        try:
            return instance.__dict__[self.key]
        except KeyError:
            raise AttributeError(f"{type(instance).__name__}.{self.name} is not set") from None

    def __set__(self, instance: Any, value: Any) -> None:
        var = instance.__dict__.get(self.key)
        if var is None:
            var = tf.Variable(tf.cast(value, tf.float32), trainable=False, name=self.name)
            instance.__dict__[self.key] = var
        else:
            var.assign(tf.cast(value, tf.float32))


class LearningRateSchedule(schedules.LearningRateSchedule):
    """Sets every optimizer's learning rate from ``lr_schedule`` as the timestep advances."""

    cur_lr = TracedScalar()

    def _set_optimizer_lr(self, lr: float) -> None:
        for optimizer in self._optimizers:  # type: ignore[attr-defined]
            optimizer.learning_rate.assign(lr)


class EntropyCoeffSchedule(schedules.EntropyCoeffSchedule):
    """``entropy_coeff`` on ``entropy_coeff_schedule``, read afresh by traced losses."""

    entropy_coeff = TracedScalar()


class ValueNetworkMixin:
    """``value(obs)``: the critic's estimate for one observation (for bootstrapping)."""

    def value(self, obs: np.ndarray) -> float:
        fn = self.__dict__.get("_value_fn")
        if fn is None:
            fn = self.__dict__["_value_fn"] = self._trace(self._value_eager)  # type: ignore[attr-defined]
        return float(fn(tf.convert_to_tensor(np.asarray(obs, dtype=np.float32)[None]))[0])

    def _value_eager(self, obs: tf.Tensor) -> tf.Tensor:
        self.model({SampleBatch.OBS: obs, "is_training": False}, [], None)  # type: ignore[attr-defined]
        return self.model.value_function()  # type: ignore[attr-defined]


def vf_preds_fetches(policy: Any) -> dict[str, tf.Tensor]:
    """Store the value predictions made while acting (as ``vf_preds``)."""
    return {SampleBatch.VF_PREDS: policy.model.value_function()}


def clip_gradients(policy: Any, optimizer: Any, loss: tf.Tensor) -> list[tuple[Any, Any]]:
    """Gradients of ``loss``, clipped to a global norm of ``config["grad_clip"]`` when set
    (the norm before clipping is kept for :func:`grad_norm_stats`)."""
    grads_and_vars = optimizer.compute_gradients(loss)
    clip = policy.config.get("grad_clip")
    if not clip:
        return grads_and_vars
    grads, policy._grad_gnorm = tf.clip_by_global_norm([g for g, _ in grads_and_vars], clip)
    return list(zip(grads, [v for _, v in grads_and_vars], strict=True))


def grad_norm_stats(policy: Any, train_batch: Any, grads: list) -> dict[str, tf.Tensor]:
    """With ``grad_clip``, the global gradient norm before clipping, as ``grad_gnorm`` (as
    the torch backend reports it)."""
    return {"grad_gnorm": policy._grad_gnorm} if policy.config.get("grad_clip") else {}


def explained_variance(targets: tf.Tensor, predictions: tf.Tensor) -> tf.Tensor:
    """``1 - Var[targets - predictions] / Var[targets]``, floored at -1 (0 for constant
    targets)."""
    variance = tf.math.reduce_variance(targets)
    explained = 1 - tf.math.reduce_variance(targets - predictions) / variance
    return tf.where(variance > 0, tf.maximum(explained, -1.0), 0.0)
