"""Small envs that show (and test) one model feature each: images and action masks."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class BrightSquareEnv(gym.Env):
    """A dim noisy ``[size, size, 1]`` uint8 image with a bright 3x3 square in its left or right
    half: action 0 says left, 1 says right; reward 1 when right. ``episode_len`` images per
    episode, so a random policy scores ``episode_len / 2``.

    ``env_config``: ``size`` (default 10), ``episode_len`` (default 10).
    """

    def __init__(self, config: dict | None = None):
        config = config or {}
        self.size = int(config.get("size", 10))
        self.episode_len = int(config.get("episode_len", 10))
        self.observation_space = gym.spaces.Box(0, 255, (self.size, self.size, 1), np.uint8)
        self.action_space = gym.spaces.Discrete(2)
        self._side = 0
        self._t = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self._t = 0
        return self._image(), {}

    def step(self, action: int) -> tuple[Any, float, bool, bool, dict]:
        reward = float(int(action) == self._side)
        self._t += 1
        return self._image(), reward, False, self._t >= self.episode_len, {}

    def _image(self) -> np.ndarray:
        rng = self.np_random
        image = rng.integers(0, 40, (self.size, self.size, 1), dtype=np.uint8)
        self._side = int(rng.integers(2))
        half = self.size // 2
        row = int(rng.integers(0, self.size - 2))
        col = int(rng.integers(0, half - 2)) + self._side * half
        image[row : row + 3, col : col + 3] = 255
        return image


class ActionMaskEnv(gym.Env):
    """Dict observations ``{"action_mask": [n] 0/1, "observations": one-hot [n]}``: the
    one-hot marks the rewarded action (reward 1), which is always allowed; about half of the
    others are masked out each step. Taking a masked action raises ``ValueError``.

    ``env_config``: ``num_actions`` (default 6), ``episode_len`` (default 10).
    """

    def __init__(self, config: dict | None = None):
        config = config or {}
        self.n = int(config.get("num_actions", 6))
        self.episode_len = int(config.get("episode_len", 10))
        self.observation_space = gym.spaces.Dict(
            {
                "action_mask": gym.spaces.Box(0.0, 1.0, (self.n,), np.float32),
                "observations": gym.spaces.Box(0.0, 1.0, (self.n,), np.float32),
            }
        )
        self.action_space = gym.spaces.Discrete(self.n)
        self._obs: dict[str, np.ndarray] = {}
        self._t = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self._t = 0
        return self._next(), {}

    def step(self, action: int) -> tuple[Any, float, bool, bool, dict]:
        if not self._obs["action_mask"][int(action)]:
            raise ValueError(f"Action {action} is masked out: {self._obs['action_mask']}.")
        reward = float(self._obs["observations"][int(action)])
        self._t += 1
        return self._next(), reward, False, self._t >= self.episode_len, {}

    def _next(self) -> dict[str, np.ndarray]:
        rng = self.np_random
        target = int(rng.integers(self.n))
        mask = (rng.random(self.n) < 0.5).astype(np.float32)
        mask[target] = 1.0
        self._obs = {"action_mask": mask, "observations": np.eye(self.n, dtype=np.float32)[target]}
        return self._obs
