"""Preprocessors: what a worker does to each observation before its filter and policy see it.

The default for a space (:func:`get_preprocessor`): images (:func:`is_image_space`) pass as
they are, channels last and in their own dtype (uint8 stays uint8 in sample batches; the
vision network scales it to [0, 1]); every other space becomes one flat float32 vector: Box
as is, Discrete one-hot, Tuple/Dict parts joined in order. A custom preprocessor subclasses
:class:`Preprocessor` and is registered with ``ModelCatalog.register_custom_preprocessor``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.errors import EnvError


class Preprocessor:
    """Maps observations of ``obs_space`` to arrays of one shape (:attr:`observation_space`).

    Subclasses define :meth:`_init_shape` and :meth:`transform`; ``options`` is the model
    config (``config["model"]``). The output is float32 unless a subclass sets ``dtype``.
    """

    dtype: Any = np.float32

    def __init__(self, obs_space: gym.Space, options: dict | None = None):
        self.original_space = obs_space
        self._obs_space = obs_space  # the name RLlib-style subclasses read
        self._options = dict(options or {})
        self.shape = tuple(int(d) for d in self._init_shape(obs_space, self._options))
        self.size = int(np.prod(self.shape))
        self.observation_space = self._output_space()

    def _init_shape(self, obs_space: gym.Space, options: dict) -> Sequence[int]:
        """The shape of :meth:`transform`'s output."""
        raise NotImplementedError

    def transform(self, observation: Any) -> np.ndarray:
        """One observation, preprocessed."""
        raise NotImplementedError

    def transform_batch(self, observations: list) -> np.ndarray:
        """A list of observations as one ``[B, *shape]`` array."""
        return np.stack([np.asarray(self.transform(o), self.dtype) for o in observations])

    def _output_space(self) -> gym.spaces.Box:
        if np.issubdtype(self.dtype, np.integer):
            info = np.iinfo(self.dtype)
            return gym.spaces.Box(info.min, info.max, self.shape, self.dtype)
        return gym.spaces.Box(-np.inf, np.inf, self.shape, self.dtype)


class FlattenPreprocessor(Preprocessor):
    """One flat float32 vector: Box as is, Discrete and MultiDiscrete one-hot, MultiBinary as
    0/1, Tuple and Dict parts joined in order. Its ``observation_space.original_space`` is
    the space it flattens (see :func:`split_flat`)."""

    def _init_shape(self, obs_space: gym.Space, options: dict) -> Sequence[int]:
        self.is_identity = isinstance(obs_space, gym.spaces.Box) and len(obs_space.shape) == 1
        return (flat_size(obs_space),)

    def _output_space(self) -> gym.spaces.Box:
        space = super()._output_space()
        space.original_space = self.original_space
        return space

    def transform(self, observation: Any) -> np.ndarray:
        if self.is_identity:
            return np.asarray(observation, dtype=np.float32)
        out = np.empty(self.size, dtype=np.float32)
        _write(self.original_space, observation, out, 0)
        return out

    def transform_batch(self, observations: list) -> np.ndarray:
        if self.is_identity:
            return np.asarray(observations, dtype=np.float32)
        return np.stack([self.transform(o) for o in observations])


class ImagePreprocessor(Preprocessor):
    """Images as they are, channels last: ``[H, W, C]`` (a ``[H, W]`` image gets one channel),
    in the space's dtype (bool as uint8 0/1, floats as float32), so batches keep uint8
    pixels."""

    def _init_shape(self, obs_space: gym.Space, options: dict) -> Sequence[int]:
        if obs_space.dtype == np.bool_:
            self.dtype = np.uint8
        elif np.issubdtype(obs_space.dtype, np.floating):
            self.dtype = np.float32
        else:
            self.dtype = obs_space.dtype
        shape = tuple(obs_space.shape)
        return shape if len(shape) == 3 else (*shape, 1)

    def _output_space(self) -> gym.spaces.Box:
        space = self.original_space
        low = np.asarray(space.low, self.dtype).reshape(self.shape)
        high = np.asarray(space.high, self.dtype).reshape(self.shape)
        return gym.spaces.Box(low, high, self.shape, self.dtype)

    def transform(self, observation: Any) -> np.ndarray:
        return np.asarray(observation, dtype=self.dtype).reshape(self.shape)

    def transform_batch(self, observations: list) -> np.ndarray:
        return np.asarray(observations, dtype=self.dtype).reshape(-1, *self.shape)


def is_image_space(space: gym.Space) -> bool:
    """Whether ``space`` is an image: a rank-3 Box (``[H, W, C]``), or a rank-2 Box of uint8 or
    bool (``[H, W]``, one channel). Other Boxes are flattened."""
    if not isinstance(space, gym.spaces.Box):
        return False
    rank = len(space.shape)
    return rank == 3 or (rank == 2 and space.dtype in (np.uint8, np.bool_))


def get_preprocessor(space: gym.Space) -> type[Preprocessor]:
    """The default preprocessor class for ``space``: :class:`ImagePreprocessor` for images,
    else :class:`FlattenPreprocessor` (an :class:`EnvError` for spaces it cannot flatten)."""
    if is_image_space(space):
        return ImagePreprocessor
    flat_size(space)  # raises for unsupported spaces
    return FlattenPreprocessor


def split_flat(obs: Any, space: gym.Space) -> Any:
    """The parts of a batch of flat observations ``[B, n]`` that :class:`FlattenPreprocessor`
    made from a Dict or Tuple ``space``, as a dict (or tuple) of ``[B, size]`` slices, one per
    key (Discrete one-hot, Box flattened). Works on numpy arrays and torch or TF tensors."""
    if isinstance(space, gym.spaces.Dict):
        items = space.spaces.items()
    elif isinstance(space, gym.spaces.Tuple):
        items = enumerate(space.spaces)
    else:
        raise EnvError(f"split_flat needs a Dict or Tuple space, got {space}.")
    parts, offset = {}, 0
    for key, sub in items:
        size = flat_size(sub)
        parts[key] = obs[:, offset : offset + size]
        offset += size
    return parts if isinstance(space, gym.spaces.Dict) else tuple(parts.values())


def flat_size(space: gym.Space) -> int:
    """The length of ``space``'s observations flattened (an :class:`EnvError` if it cannot)."""
    if isinstance(space, gym.spaces.Box):
        return int(np.prod(space.shape))
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return int(np.sum(space.nvec))
    if isinstance(space, gym.spaces.MultiBinary):
        return int(np.prod(space.shape))
    if isinstance(space, gym.spaces.Tuple):
        return sum(flat_size(s) for s in space.spaces)
    if isinstance(space, gym.spaces.Dict):
        return sum(flat_size(s) for s in space.spaces.values())
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
