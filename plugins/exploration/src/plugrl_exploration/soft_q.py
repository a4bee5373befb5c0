"""SoftQ: Boltzmann exploration, sampling actions from ``softmax(Q / temperature)``."""

from __future__ import annotations

from typing import Any

from plugrl.errors import ConfigError
from plugrl.exploration import StochasticSampling


class SoftQ(StochasticSampling):
    """Samples from the categorical whose logits are the distribution inputs (Q-values for DQN)
    divided by ``temperature``; lower temperatures are greedier.

    Args:
        temperature: the Boltzmann temperature (> 0).
    """

    def __init__(self, action_space: Any, *, temperature: float = 1.0, **kwargs: Any):
        super().__init__(action_space, **kwargs)
        if temperature <= 0:
            raise ConfigError(f"SoftQ temperature must be > 0, got {temperature}.")
        self.temperature = float(temperature)

    def sample(self, action_distribution: Any) -> tuple[Any, Any]:
        return super().sample(self.cooled(action_distribution))

    def log_likelihoods(self, action_distribution: Any, actions: Any) -> Any:
        return self.cooled(action_distribution).logp(actions)

    def cooled(self, action_distribution: Any) -> Any:
        """The distribution whose logits are ``action_distribution``'s over the temperature."""
        return type(action_distribution)(
            action_distribution.inputs / self.temperature, action_distribution.model
        )
