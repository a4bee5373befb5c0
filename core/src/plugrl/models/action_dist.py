"""The action-distribution interface explorations and losses use, whatever the backend."""

from __future__ import annotations

from typing import Any


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
