"""Flatten observations to one float32 vector: Box as is, Discrete one-hot, Tuple/Dict joined."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.errors import EnvError


class Preprocessor:
    """Maps observations of ``original_space`` into a flat float32 Box (``observation_space``)."""

    def __init__(self, original_space: gym.Space):
        self.original_space = original_space
        self.size = _flat_size(original_space)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (self.size,), np.float32)
        self.is_identity = (
            isinstance(original_space, gym.spaces.Box) and len(original_space.shape) == 1
        )

    def transform(self, observation: Any) -> np.ndarray:
        """One observation as a flat float32 vector."""
        if self.is_identity:
            return np.asarray(observation, dtype=np.float32)
        out = np.empty(self.size, dtype=np.float32)
        _write(self.original_space, observation, out, 0)
        return out

    def transform_batch(self, observations: list) -> np.ndarray:
        """A list of observations as a [B, size] float32 array."""
        if self.is_identity:
            return np.asarray(observations, dtype=np.float32)
        return np.stack([self.transform(o) for o in observations])


def get_preprocessor(space: gym.Space) -> type[Preprocessor]:
    """The preprocessor class for ``space`` (kept as a function for RLlib-style code)."""
    _flat_size(space)  # raises for unsupported spaces
    return Preprocessor


def _flat_size(space: gym.Space) -> int:
    if isinstance(space, gym.spaces.Box):
        return int(np.prod(space.shape))
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return int(np.sum(space.nvec))
    if isinstance(space, gym.spaces.MultiBinary):
        return int(np.prod(space.shape))
    if isinstance(space, gym.spaces.Tuple):
        return sum(_flat_size(s) for s in space.spaces)
    if isinstance(space, gym.spaces.Dict):
        return sum(_flat_size(s) for s in space.spaces.values())
    raise EnvError(
        f"Observation space {space} is not supported: use Box, Discrete, MultiDiscrete, "
        "MultiBinary, or Tuple/Dict of those (or wrap the env to produce one)."
    )


def _write(space: gym.Space, obs: Any, out: np.ndarray, offset: int) -> int:
    if isinstance(space, gym.spaces.Discrete):
        out[offset : offset + space.n] = 0.0
        out[offset + int(obs) - int(space.start)] = 1.0
        return offset + int(space.n)
    if isinstance(space, gym.spaces.MultiDiscrete):
        for n, value in zip(space.nvec.ravel(), np.ravel(obs), strict=True):
            out[offset : offset + n] = 0.0
            out[offset + int(value)] = 1.0
            offset += int(n)
        return offset
    if isinstance(space, gym.spaces.Tuple):
        for sub, value in zip(space.spaces, obs, strict=True):
            offset = _write(sub, value, out, offset)
        return offset
    if isinstance(space, gym.spaces.Dict):
        for key, sub in space.spaces.items():
            offset = _write(sub, obs[key], out, offset)
        return offset
    flat = np.asarray(obs, dtype=np.float32).ravel()
    out[offset : offset + flat.size] = flat
    return offset + flat.size
