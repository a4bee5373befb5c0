"""StochasticSampling, the default exploration: sample from the action distribution (its mode
when not exploring). Part of the kernel, so the default config needs no plugin."""

from __future__ import annotations

from typing import Any

from plugrl.exploration import Exploration, batch_size, random_actions, zero_logp
from plugrl.hookspecs import hookimpl


class StochasticSampling(Exploration):
    """Samples actions from the policy's distribution.

    Args:
        random_timesteps: for this many initial timesteps, act uniformly at random instead.
    """

    def __init__(self, action_space: Any, *, random_timesteps: int = 0, **kwargs: Any):
        super().__init__(action_space, **kwargs)
        self.random_timesteps = random_timesteps
        self.last_timestep = 0

    def get_exploration_action(
        self, *, action_distribution: Any, timestep: int | None, explore: bool = True
    ) -> tuple[Any, Any]:
        if timestep is not None:
            self.last_timestep = timestep
        if not explore:
            action = action_distribution.deterministic_sample()
            return action, zero_logp(batch_size(action_distribution))
        if self.last_timestep < self.random_timesteps:
            action = random_actions(self.action_space, batch_size(action_distribution))
            return action, action_distribution.logp(action)
        return self.sample(action_distribution)

    def sample(self, action_distribution: Any) -> tuple[Any, Any]:
        """Draw exploring actions and their log-likelihoods."""
        action = action_distribution.sample()
        return action, action_distribution.sampled_action_logp()

    def get_state(self) -> dict[str, Any]:
        return {"last_timestep": self.last_timestep}

    def set_state(self, state: dict[str, Any]) -> None:
        self.last_timestep = int(state["last_timestep"])


@hookimpl
def register_explorations(register: Any) -> None:
    register("StochasticSampling", StochasticSampling)
