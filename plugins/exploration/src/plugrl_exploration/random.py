"""Random: uniformly random actions from the action space, ignoring the policy."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from plugrl import Exploration


def random_actions(space: gym.Space, n: int) -> np.ndarray:
    """``n`` uniform samples of ``space`` stacked into one array."""
    return np.stack([space.sample() for _ in range(n)])


class Random(Exploration):
    """Acts uniformly at random when exploring; the distribution's mode otherwise."""

    def get_exploration_action(
        self, *, action_distribution: Any, timestep: int | None, explore: bool = True
    ) -> tuple[Any, Any]:
        if not explore:
            action = action_distribution.deterministic_sample()
            return action, np.zeros(len(np.asarray(action)), dtype=np.float32)
        n = len(np.asarray(action_distribution.deterministic_sample()))
        action = random_actions(self.action_space, n)
        return action, action_distribution.logp(action)
