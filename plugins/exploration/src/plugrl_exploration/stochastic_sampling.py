"""StochasticSampling: sample from the action distribution (its mode when not exploring)."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl import Exploration
from plugrl_exploration.random import random_actions


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
            return action, np.zeros(len(np.asarray(action)), dtype=np.float32)
        if self.last_timestep < self.random_timesteps:
            action = random_actions(self.action_space, _batch_size(action_distribution))
            return action, action_distribution.logp(action)
        action = action_distribution.sample()
        return action, action_distribution.sampled_action_logp()

    def get_state(self) -> dict[str, Any]:
        return {"last_timestep": self.last_timestep}

    def set_state(self, state: dict[str, Any]) -> None:
        self.last_timestep = int(state["last_timestep"])


def _batch_size(action_distribution: Any) -> int:
    return len(np.asarray(action_distribution.deterministic_sample()))
