"""Random: uniformly random actions from the action space, ignoring the policy."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from plugrl import Exploration


def random_actions(space: gym.Space, n: int) -> np.ndarray:
    """``n`` uniform samples of ``space`` stacked into one array (drawn with the space's own
    generator, so ``space.seed(s)`` makes them repeat)."""
    rng = space.np_random
    if isinstance(space, gym.spaces.Discrete):
        return (rng.integers(space.n, size=n) + space.start).astype(space.dtype)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return (rng.random((n, *space.shape)) * space.nvec).astype(space.dtype) + space.start
    if isinstance(space, gym.spaces.Box) and space.is_bounded():
        return rng.uniform(space.low, space.high, (n, *space.shape)).astype(space.dtype)
    return np.stack([space.sample() for _ in range(n)])


def batch_size(action_distribution: Any) -> int:
    """Rows in the batch a distribution was built from."""
    return len(action_distribution.inputs)


def zero_logp(n: int) -> np.ndarray:
    """The log-probability reported for actions that are not a sample of the distribution."""
    return np.zeros(n, dtype=np.float32)


class Random(Exploration):
    """Acts uniformly at random when exploring; the distribution's mode otherwise."""

    def get_exploration_action(
        self, *, action_distribution: Any, timestep: int | None, explore: bool = True
    ) -> tuple[Any, Any]:
        if not explore:
            return action_distribution.deterministic_sample(), zero_logp(
                batch_size(action_distribution)
            )
        action = random_actions(self.action_space, batch_size(action_distribution))
        return action, action_distribution.logp(action)
