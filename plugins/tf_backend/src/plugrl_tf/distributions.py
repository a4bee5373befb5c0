"""TF action distributions: Categorical, MultiCategorical and diagonal Gaussian.

The same classes, inputs and semantics as the torch backend's (``plugrl_torch.distributions``):
each is built as ``dist_class(inputs, model)`` from model outputs ``[B, num_outputs]``;
``for_space(space)`` binds a space's shape; ``logp``, ``entropy`` and ``kl`` return ``[B]``.

Draws come from the ``tf.random.Generator`` of the seeded worker sampling on this thread (forked
from TF's global one once the worker is built), else from the global one, which the plugin seeds
(in place) with the worker's seed. Both are saved in checkpoints; a generator's state is a
variable, so a traced acting pass draws the stream of the latest seed or restore, and ``tf`` and
``tf2`` draw the same actions. They are made from its integer draws (:func:`uniform`), which
eager TF, graphs and XLA compute alike.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.models import ActionDistribution, bind_class, select_action_dist
from plugrl.sampling.seeding import framework_generator
from plugrl_tf._tf import tf


def generator() -> tf.random.Generator:
    """The generator draws come from: the sampling worker's, else TF's global one."""
    own = framework_generator()
    return tf.random.get_global_generator() if own is None else own


def uniform(shape: Any) -> tf.Tensor:
    """Uniform draws in (0, 1) from :func:`generator`'s integer draws (its own float draws
    differ between XLA and TF's CPU kernels): see :func:`unit_interval`."""
    return unit_interval(generator().uniform_full_int(shape, tf.uint32))


def unit_interval(bits: tf.Tensor) -> tf.Tensor:
    """uint32 ``bits`` as floats strictly inside (0, 1): their top 23 bits, centred (every
    value exact in float32, so never 0 or 1: the logs of Gumbel and Box-Muller noise stay
    finite)."""
    return (tf.cast(tf.bitwise.right_shift(bits, 9), tf.float32) + 0.5) * 2.0**-23


class TFDistribution(ActionDistribution):
    """Base of the TF distributions. Subclasses implement ``_draw`` and ``_mode``; the base
    remembers the last sample for ``sampled_action_logp``.

    A traced policy draws in its ``tf.function`` and hands the draws over with
    :meth:`preset`, so acting runs no eager ops: derived tensors (log-probabilities, splits)
    are computed only when a method needs them.
    """

    def __init__(self, inputs: Any, model: Any = None):
        if not (isinstance(inputs, tf.Tensor) and inputs.dtype == tf.float32):
            inputs = tf.convert_to_tensor(inputs, tf.float32)
        super().__init__(inputs, model)
        self._last_sample: tf.Tensor | None = None
        self._last_logp: tf.Tensor | None = None
        self._preset: tuple[Any, Any, Any] | None = None

    def preset(self, sample: Any, logp: Any, mode: Any) -> None:
        """Draws made elsewhere from the same inputs: the next :meth:`sample` returns
        ``sample`` (log-probability ``logp``; ``None``s when none was drawn), and
        :meth:`deterministic_sample` returns ``mode``."""
        self._preset = (sample, logp, mode)

    def sample(self) -> tf.Tensor:
        if self._preset is not None and self._preset[0] is not None:
            sample, logp, mode = self._preset
            self._preset = (None, None, mode)  # a second call draws afresh
            self._last_sample, self._last_logp = sample, logp
            return sample
        self._last_sample, self._last_logp = self._draw(), None
        return self._last_sample

    def deterministic_sample(self) -> tf.Tensor:
        mode = self._preset[2] if self._preset is not None else self._mode()
        self._last_sample, self._last_logp = mode, None
        return mode

    def sampled_action_logp(self) -> tf.Tensor:
        if self._last_sample is None:
            raise RuntimeError("sampled_action_logp() needs a call to sample() first.")
        return self.logp(self._last_sample) if self._last_logp is None else self._last_logp

    def _draw(self) -> tf.Tensor:
        raise NotImplementedError

    def _mode(self) -> tf.Tensor:
        raise NotImplementedError


class TFCategorical(TFDistribution):
    """Categorical over ``n`` choices (Discrete spaces); ``inputs`` are the ``n`` logits."""

    @functools.cached_property
    def log_probs(self) -> tf.Tensor:
        return tf.nn.log_softmax(self.inputs, axis=-1)

    def _draw(self) -> tf.Tensor:
        # Gumbel-max: the argmax of the log-probabilities less the log of exponential noise
        noise = tf.math.log(-tf.math.log(uniform(tf.shape(self.log_probs))))
        return tf.argmax(self.log_probs - noise, axis=-1)

    def _mode(self) -> tf.Tensor:
        return tf.argmax(self.inputs, axis=-1)

    def logp(self, actions: Any) -> tf.Tensor:
        index = tf.cast(actions, tf.int32)
        return tf.gather(self.log_probs, index, batch_dims=1)

    def entropy(self) -> tf.Tensor:
        return -tf.reduce_sum(tf.exp(self.log_probs) * self.log_probs, axis=-1)

    def kl(self, other: ActionDistribution) -> tf.Tensor:
        diff = self.log_probs - other.log_probs
        return tf.reduce_sum(tf.exp(self.log_probs) * diff, axis=-1)

    @staticmethod
    def required_model_output_shape(action_space: gym.Space, model_config: dict) -> int:
        return int(action_space.n)


class TFMultiCategorical(TFDistribution):
    """Independent categoricals, one per component of a MultiDiscrete space; ``inputs`` are the
    logits of every component, concatenated. Build it with ``TFMultiCategorical.for_space``."""

    nvec: tuple[int, ...] | None = None
    action_shape: tuple[int, ...] = ()

    def __init__(self, inputs: Any, model: Any = None):
        if self.nvec is None:
            raise TypeError(
                "TFMultiCategorical needs its nvec: use TFMultiCategorical.for_space(space)"
                "(inputs, model), or get_action_dist(space, model_config)."
            )
        super().__init__(inputs, model)

    @functools.cached_property
    def cats(self) -> list[TFCategorical]:
        return [TFCategorical(logits) for logits in tf.split(self.inputs, self.nvec, -1)]

    @classmethod
    def for_space(cls, space: gym.spaces.MultiDiscrete) -> type[TFMultiCategorical]:
        """This class with the space's ``nvec`` (and action shape) bound."""
        nvec = tuple(int(n) for n in np.asarray(space.nvec).reshape(-1))
        return bind_class(cls, (("nvec", nvec), ("action_shape", tuple(space.shape))))

    def _draw(self) -> tf.Tensor:
        return self._unflatten(tf.stack([c.sample() for c in self.cats], -1))

    def _mode(self) -> tf.Tensor:
        return self._unflatten(tf.stack([c.deterministic_sample() for c in self.cats], -1))

    def logp(self, actions: Any) -> tf.Tensor:
        actions = tf.reshape(tf.cast(actions, tf.int32), [-1, len(self.cats)])
        columns = tf.unstack(actions, num=len(self.cats), axis=1)
        return tf.add_n([c.logp(a) for a, c in zip(columns, self.cats, strict=True)])

    def entropy(self) -> tf.Tensor:
        return tf.add_n([c.entropy() for c in self.cats])

    def kl(self, other: ActionDistribution) -> tf.Tensor:
        return tf.add_n([c.kl(o) for c, o in zip(self.cats, other.cats, strict=True)])

    def _unflatten(self, actions: tf.Tensor) -> tf.Tensor:
        return tf.reshape(actions, [-1, *self.action_shape])

    @staticmethod
    def required_model_output_shape(action_space: gym.Space, model_config: dict) -> int:
        return int(np.sum(action_space.nvec))


class TFDiagGaussian(TFDistribution):
    """Gaussian with diagonal covariance (Box spaces); ``inputs`` are ``concat(mean, log_std)``.

    A Box of shape ``S`` is a flat vector of ``prod(S)`` dimensions; samples have shape
    ``[B, *S]`` once bound with ``TFDiagGaussian.for_space(space)``, ``[B, prod(S)]`` otherwise.
    """

    action_shape: tuple[int, ...] | None = None

    @functools.cached_property
    def mean(self) -> tf.Tensor:
        return tf.split(self.inputs, 2, axis=-1)[0]

    @functools.cached_property
    def log_std(self) -> tf.Tensor:
        return tf.split(self.inputs, 2, axis=-1)[1]

    @functools.cached_property
    def std(self) -> tf.Tensor:
        return tf.exp(self.log_std)

    @classmethod
    def for_space(cls, space: gym.spaces.Box) -> type[TFDiagGaussian]:
        """This class, bound to the shape of ``space`` unless that shape is already flat."""
        if len(space.shape) == 1:
            return cls
        return bind_class(cls, (("action_shape", tuple(space.shape)),))

    def _draw(self) -> tf.Tensor:
        # Box-Muller
        u = uniform(tf.concat([[2], tf.shape(self.mean)], 0))
        noise = tf.sqrt(-2.0 * tf.math.log(u[0])) * tf.cos(2.0 * math.pi * u[1])
        return self._unflatten(self.mean + self.std * noise)

    def _mode(self) -> tf.Tensor:
        return self._unflatten(self.mean)

    def logp(self, actions: Any) -> tf.Tensor:
        actions = tf.reshape(tf.cast(actions, tf.float32), tf.shape(self.mean))
        z = (actions - self.mean) / self.std
        per_dim = -0.5 * tf.square(z) - self.log_std - 0.5 * math.log(2 * math.pi)
        return tf.reduce_sum(per_dim, axis=-1)

    def entropy(self) -> tf.Tensor:
        return tf.reduce_sum(self.log_std + 0.5 * math.log(2 * math.pi * math.e), axis=-1)

    def kl(self, other: ActionDistribution) -> tf.Tensor:
        ratio = (tf.square(self.std) + tf.square(self.mean - other.mean)) / (
            2.0 * tf.square(other.std)
        )
        return tf.reduce_sum(other.log_std - self.log_std + ratio - 0.5, axis=-1)

    def _unflatten(self, actions: tf.Tensor) -> tf.Tensor:
        if self.action_shape is None:
            return actions
        return tf.reshape(actions, [-1, *self.action_shape])

    @staticmethod
    def required_model_output_shape(action_space: gym.Space, model_config: dict) -> int:
        return 2 * int(np.prod(action_space.shape))


def get_action_dist(
    action_space: gym.Space, model_config: dict
) -> tuple[type[ActionDistribution], int]:
    """``(dist_class, num_outputs)`` for ``action_space``: a registered ``custom_action_dist``,
    or :class:`TFCategorical`, :class:`TFMultiCategorical` or :class:`TFDiagGaussian` for
    Discrete, MultiDiscrete and Box spaces."""
    return select_action_dist(
        action_space,
        model_config,
        categorical=TFCategorical,
        multi_categorical=TFMultiCategorical,
        diag_gaussian=TFDiagGaussian,
        backend="tf",
    )
