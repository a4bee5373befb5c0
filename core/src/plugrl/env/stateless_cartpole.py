"""StatelessCartPole: CartPole-v1 with the velocities hidden, so only a policy with memory
(e.g. ``model.use_lstm``) balances it well. Registered as ``env: "StatelessCartPole"``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

_POSITIONS = [0, 2]  # cart position, pole angle (1 and 3 are their velocities)


class StatelessCartPole(gym.ObservationWrapper):
    """CartPole-v1 observing only the cart position and the pole angle.

    Args:
        env_config: keyword arguments for ``gymnasium.make("CartPole-v1", ...)``.
    """

    def __init__(self, env_config: Mapping[str, Any] | None = None):
        super().__init__(gym.make("CartPole-v1", **dict(env_config or {})))
        high = self.env.observation_space.high[_POSITIONS]
        self.observation_space = gym.spaces.Box(-high, high, dtype=np.float32)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return np.asarray(observation, dtype=np.float32)[_POSITIONS]
