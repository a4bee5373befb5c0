"""The action-distribution interface explorations and losses use, whatever the backend, and the
framework-free choice of a distribution class for an action space."""

from __future__ import annotations

import copyreg
import functools
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.errors import ConfigError, EnvError
from plugrl.registry import registry


class ActionDistribution:
    """A distribution over actions, parameterised by a model's outputs (``inputs``).

    Backends implement it with their own tensors; explorations only call these methods and
    convert results with ``numpy.asarray``.
    """

    def __init__(self, inputs: Any, model: Any = None):
        self.inputs = inputs
        self.model = model

    def sample(self) -> Any:
        """Draw actions; remembers them for :meth:`sampled_action_logp`."""
        raise NotImplementedError

    def deterministic_sample(self) -> Any:
        """The most likely actions (argmax or mean)."""
        raise NotImplementedError

    def sampled_action_logp(self) -> Any:
        """Log-probability of the actions last drawn by :meth:`sample`."""
        raise NotImplementedError

    def logp(self, actions: Any) -> Any:
        raise NotImplementedError

    def entropy(self) -> Any:
        raise NotImplementedError

    def kl(self, other: ActionDistribution) -> Any:
        raise NotImplementedError

    @staticmethod
    def required_model_output_shape(action_space: Any, model_config: dict) -> int:
        """Number of model outputs this distribution needs for ``action_space``."""
        raise NotImplementedError


class _BoundClass(type):
    """Metaclass of the subclasses made by :func:`bind_class`, so that they pickle by value."""


@functools.cache
def bind_class(base: type, attrs: tuple[tuple[str, Any], ...]) -> type:
    """A subclass of ``base`` with class attributes ``attrs`` (one class per base and attrs).

    Backends use it for ``Dist.for_space(space)``: a distribution bound to its space's shape
    that is still built as ``dist_class(inputs, model)``, and pickles to Ray workers.
    """
    name = f"{base.__name__}[{', '.join(f'{k}={v}' for k, v in attrs)}]"
    return _BoundClass(
        name,
        (base,),
        {
            **dict(attrs),
            "__module__": base.__module__,
            "__qualname__": name,
            "_bound_to": (base, attrs),
        },
    )


copyreg.pickle(_BoundClass, lambda cls: (bind_class, cls._bound_to))


def select_action_dist(
    action_space: gym.Space,
    model_config: dict,
    *,
    categorical: type,
    multi_categorical: type,
    diag_gaussian: type,
    backend: str,
) -> tuple[type, int]:
    """``(dist_class, num_outputs)`` for ``action_space`` from one backend's classes.

    ``model_config["custom_action_dist"]`` names a class registered with
    ``ModelCatalog.register_custom_action_dist``; otherwise Discrete, MultiDiscrete and Box spaces
    get ``categorical``, ``multi_categorical.for_space(space)`` and
    ``diag_gaussian.for_space(space)``. ``backend`` names the backend in error messages.
    """
    custom = model_config.get("custom_action_dist")
    if custom:
        dist_class = registry("models").get(custom)
        if not callable(getattr(dist_class, "required_model_output_shape", None)):
            raise ConfigError(
                f"custom_action_dist {custom!r} is {dist_class!r}, which has no "
                "required_model_output_shape(action_space, model_config): subclass "
                "plugrl.models.ActionDistribution and implement it."
            )
        return dist_class, int(dist_class.required_model_output_shape(action_space, model_config))
    if isinstance(action_space, gym.spaces.Discrete | gym.spaces.MultiDiscrete):
        if np.any(action_space.start != 0):
            raise EnvError(
                f"Action space {action_space!r} has start={action_space.start}; the {backend} "
                "backend's categorical distributions only produce actions counted from 0. "
                "Shift the actions in an env wrapper."
            )
        if isinstance(action_space, gym.spaces.Discrete):
            dist_class = categorical
        else:
            dist_class = multi_categorical.for_space(action_space)
    elif isinstance(action_space, gym.spaces.Box):
        dist_class = diag_gaussian.for_space(action_space)
    else:
        raise EnvError(
            f"Action space {action_space!r} is not supported by the {backend} backend's action "
            "distributions, which handle Discrete, MultiDiscrete and Box. Use one of those, or "
            "register your own with ModelCatalog.register_custom_action_dist(name, cls) and set "
            'config["model"]["custom_action_dist"] = name.'
        )
    return dist_class, dist_class.required_model_output_shape(action_space, model_config)
