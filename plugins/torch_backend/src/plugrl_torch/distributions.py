"""Torch action distributions: Categorical, MultiCategorical and diagonal Gaussian.

Each class is built as ``dist_class(inputs, model)`` from a batch of model outputs ``inputs`` of
shape ``[B, num_outputs]``. Distributions that need to know their action space (the ``nvec`` of a
MultiDiscrete space, the shape of a multi-dimensional Box) are bound to it with
``Class.for_space(space)``, which returns a subclass that is still built with two arguments.
:func:`get_action_dist` picks the class for an action space.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch.distributions import Independent, Normal, kl_divergence

from plugrl.models import ActionDistribution, bind_class, select_action_dist
from plugrl.sampling.seeding import framework_generator


class TorchDistribution(ActionDistribution):
    """Base of the torch distributions: by default wraps a ``torch.distributions`` object in
    ``self.dist`` (a subclass may compute on its inputs directly instead).

    ``logp``, ``entropy`` and ``kl`` return one value per batch row (shape ``[B]``).
    """

    dist: torch.distributions.Distribution

    def __init__(self, inputs: torch.Tensor, model: Any = None):
        super().__init__(inputs, model)
        self._last_sample: torch.Tensor | None = None

    def sample(self) -> torch.Tensor:
        self._last_sample = self.dist.sample()
        return self._last_sample

    def sampled_action_logp(self) -> torch.Tensor:
        if self._last_sample is None:
            raise RuntimeError("sampled_action_logp() needs a call to sample() first.")
        return self.logp(self._last_sample)

    def logp(self, actions: Any) -> torch.Tensor:
        return self.dist.log_prob(self._actions_to_tensor(actions))

    def entropy(self) -> torch.Tensor:
        return self.dist.entropy()

    def kl(self, other: ActionDistribution) -> torch.Tensor:
        return kl_divergence(self.dist, other.dist)

    def _actions_to_tensor(self, actions: Any) -> torch.Tensor:
        return torch.as_tensor(actions, device=self.inputs.device)


class TorchCategorical(TorchDistribution):
    """Categorical over ``n`` choices (Discrete spaces); ``inputs`` are the ``n`` logits.

    Works on the normalised log-probabilities directly (sampling by the Gumbel-max trick):
    on the small batches of acting this is several times faster than building a
    ``torch.distributions.Categorical``.
    """

    def __init__(self, inputs: torch.Tensor, model: Any = None):
        super().__init__(inputs, model)
        self.log_probs = torch.log_softmax(inputs, dim=-1)

    def sample(self) -> torch.Tensor:
        noise = torch.empty_like(self.log_probs)
        noise = noise.exponential_(generator=_generator(noise)).log()
        self._last_sample = (self.log_probs - noise).argmax(dim=-1)
        return self._last_sample

    def logp(self, actions: Any) -> torch.Tensor:
        index = self._actions_to_tensor(actions).unsqueeze(-1)
        return self.log_probs.gather(-1, index).squeeze(-1)

    def entropy(self) -> torch.Tensor:
        return -(self.log_probs.exp() * self.log_probs).sum(dim=-1)

    def kl(self, other: ActionDistribution) -> torch.Tensor:
        return (self.log_probs.exp() * (self.log_probs - other.log_probs)).sum(dim=-1)

    def deterministic_sample(self) -> torch.Tensor:
        self._last_sample = self.inputs.argmax(dim=-1)
        return self._last_sample

    def _actions_to_tensor(self, actions: Any) -> torch.Tensor:
        if (
            isinstance(actions, torch.Tensor)
            and actions.dtype is torch.int64
            and actions.device == self.inputs.device
        ):
            return actions  # indices already (the drawn actions): two ops fewer per acting call
        return super()._actions_to_tensor(actions).long()

    @staticmethod
    def required_model_output_shape(action_space: gym.Space, model_config: dict) -> int:
        return int(action_space.n)


class TorchMultiCategorical(TorchDistribution):
    """Independent categoricals, one per component of a MultiDiscrete space.

    ``inputs`` are the logits of every component, concatenated. Actions have shape
    ``[B, *nvec.shape]``; ``logp``, ``entropy`` and ``kl`` sum over the components. Build it with
    ``TorchMultiCategorical.for_space(space)``, which binds ``nvec``.
    """

    nvec: tuple[int, ...] | None = None
    action_shape: tuple[int, ...] = ()

    def __init__(self, inputs: torch.Tensor, model: Any = None):
        if self.nvec is None:
            raise TypeError(
                "TorchMultiCategorical needs its nvec: use TorchMultiCategorical.for_space(space)"
                "(inputs, model), or get_action_dist(space, model_config)."
            )
        super().__init__(inputs, model)
        self.cats = [
            TorchCategorical(logits) for logits in torch.split(inputs, list(self.nvec), -1)
        ]

    @classmethod
    def for_space(cls, space: gym.spaces.MultiDiscrete) -> type[TorchMultiCategorical]:
        """This class with the space's ``nvec`` (and action shape) bound."""
        nvec = tuple(int(n) for n in np.asarray(space.nvec).reshape(-1))
        return bind_class(cls, (("nvec", nvec), ("action_shape", tuple(space.shape))))

    def sample(self) -> torch.Tensor:
        self._last_sample = self._unflatten(torch.stack([c.sample() for c in self.cats], dim=-1))
        return self._last_sample

    def deterministic_sample(self) -> torch.Tensor:
        modes = torch.stack([c.deterministic_sample() for c in self.cats], dim=-1)
        self._last_sample = self._unflatten(modes)
        return self._last_sample

    def logp(self, actions: Any) -> torch.Tensor:
        actions = self._actions_to_tensor(actions).long().reshape(-1, len(self.cats))
        return sum(c.logp(actions[:, i]) for i, c in enumerate(self.cats))

    def entropy(self) -> torch.Tensor:
        return sum(c.entropy() for c in self.cats)

    def kl(self, other: ActionDistribution) -> torch.Tensor:
        return sum(c.kl(o) for c, o in zip(self.cats, other.cats, strict=True))

    def _unflatten(self, actions: torch.Tensor) -> torch.Tensor:
        return actions.reshape(actions.shape[0], *self.action_shape)

    @staticmethod
    def required_model_output_shape(action_space: gym.Space, model_config: dict) -> int:
        return int(np.sum(action_space.nvec))


class TorchDiagGaussian(TorchDistribution):
    """Gaussian with diagonal covariance (Box spaces); ``inputs`` are ``concat(mean, log_std)``.

    A Box of shape ``S`` is handled as a flat vector of ``prod(S)`` dimensions; samples have shape
    ``[B, *S]`` once the class is bound with ``TorchDiagGaussian.for_space(space)``, and
    ``[B, prod(S)]`` otherwise. ``logp``, ``entropy`` and ``kl`` sum over the dimensions.
    """

    action_shape: tuple[int, ...] | None = None

    def __init__(self, inputs: torch.Tensor, model: Any = None):
        super().__init__(inputs, model)
        mean, log_std = torch.chunk(inputs, 2, dim=-1)
        self.mean = mean
        self.dist = Independent(
            Normal(mean, log_std.exp(), validate_args=False), 1, validate_args=False
        )

    @classmethod
    def for_space(cls, space: gym.spaces.Box) -> type[TorchDiagGaussian]:
        """This class, bound to the shape of ``space`` unless that shape is already flat."""
        if len(space.shape) == 1:
            return cls
        return bind_class(cls, (("action_shape", tuple(space.shape)),))

    def sample(self) -> torch.Tensor:
        normal = self.dist.base_dist
        with torch.no_grad():  # as Normal.sample, from the sampling worker's generator
            draw = torch.normal(normal.loc, normal.scale, generator=_generator(normal.loc))
        self._last_sample = self._unflatten(draw)
        return self._last_sample

    def deterministic_sample(self) -> torch.Tensor:
        self._last_sample = self._unflatten(self.mean)
        return self._last_sample

    def logp(self, actions: Any) -> torch.Tensor:
        actions = self._actions_to_tensor(actions).to(self.mean.dtype)
        return self.dist.log_prob(actions.reshape(self.mean.shape))

    def _unflatten(self, actions: torch.Tensor) -> torch.Tensor:
        if self.action_shape is None:
            return actions
        return actions.reshape(actions.shape[0], *self.action_shape)

    @staticmethod
    def required_model_output_shape(action_space: gym.Space, model_config: dict) -> int:
        return 2 * int(np.prod(action_space.shape))


def _generator(like: torch.Tensor) -> torch.Generator | None:
    """The sampling worker's generator where it is on ``like``'s device, else None (torch's
    global generator of that device)."""
    generator = framework_generator()
    return generator if generator is not None and generator.device == like.device else None


def get_action_dist(
    action_space: gym.Space, model_config: dict
) -> tuple[type[ActionDistribution], int]:
    """``(dist_class, num_outputs)`` for ``action_space``: the class to build from the model's
    outputs, and how many outputs the model must have.

    ``model_config["custom_action_dist"]`` names a class registered with
    ``ModelCatalog.register_custom_action_dist``; otherwise Discrete, MultiDiscrete and Box spaces
    get :class:`TorchCategorical`, :class:`TorchMultiCategorical` and :class:`TorchDiagGaussian`.
    """
    return select_action_dist(
        action_space,
        model_config,
        categorical=TorchCategorical,
        multi_categorical=TorchMultiCategorical,
        diag_gaussian=TorchDiagGaussian,
        backend="torch",
    )
