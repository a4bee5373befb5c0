"""Atari (ale-py) and MinAtar (minatar) envs by gymnasium id, and the standard Atari pipeline.

Both packages register their ids with gymnasium only when imported; :func:`register_optional`
imports the one an id needs, or names the extra to install. With ``preprocessor_pref:
"deepmind"`` (the default) an Atari env is made with ``frameskip=1`` and wrapped in gymnasium's
``AtariPreprocessing`` (30 no-op starts, 4 frames per step, 84x84 grayscale uint8) and
``FrameStackObservation`` (4 frames), channels last: ``[84, 84, 4]`` uint8.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.errors import EnvError

PREFERENCES = ("deepmind", None)
FRAME_STACK = 4
_LEGACY_ATARI = re.compile(r"^([A-Z][A-Za-z]*?)(NoFrameskip|Deterministic)?-v[04]$")


def register_optional(env_id: str) -> None:
    """Import the package that registers ``env_id`` with gymnasium (minatar for
    ``MinAtar/...``, ale-py for ``ALE/...`` and the old Atari ids), or raise an
    :class:`EnvError` naming what to install or which id to use instead."""
    if env_id.startswith("MinAtar/"):
        _import("minatar.gym", "minatar", env_id).register_envs()
        return
    if env_id.startswith("ALE/"):
        gym.register_envs(_import("ale_py", "plugrl[atari]", env_id))
        return
    legacy = _LEGACY_ATARI.match(env_id)
    if legacy is None or importlib.util.find_spec("ale_py") is None:
        return
    gym.register_envs(importlib.import_module("ale_py"))
    game = legacy.group(1)
    if env_id not in gym.registry and f"ALE/{game}-v5" in gym.registry:
        raise EnvError(
            f"Env {env_id!r} is an old gym Atari id that ale-py no longer registers: use "
            f"'ALE/{game}-v5' (add env_config {{'repeat_action_probability': 0.0}} for no "
            f"sticky actions) or '{game}NoFrameskip-v4'."
        )


def is_atari(env_id: str) -> bool:
    """Whether the gymnasium id ``env_id`` is an ale-py Atari game."""
    spec = gym.registry.get(env_id)
    return spec is not None and str(spec.entry_point).startswith("ale_py")


def make_atari(env_id: str, env_config: dict[str, Any]) -> gym.Env:
    """The Atari env ``env_id`` in the standard pipeline (see the module docstring);
    ``env_config`` goes to ``gymnasium.make``."""
    if "frameskip" in env_config:
        raise EnvError(
            f"env_config frameskip={env_config['frameskip']!r}: with preprocessor_pref "
            "'deepmind' the Atari pipeline skips 4 frames itself. Set preprocessor_pref: null "
            "to make the env as gymnasium does."
        )
    env = gym.make(env_id, **env_config, frameskip=1)
    try:
        env = gym.wrappers.AtariPreprocessing(env, noop_max=30, frame_skip=4, screen_size=84)
    except gym.error.DependencyNotInstalled:
        env.close()
        raise EnvError(
            f"The Atari pipeline for {env_id!r} resizes frames with OpenCV: "
            "pip install 'plugrl[atari]'."
        ) from None
    return ChannelsLast(gym.wrappers.FrameStackObservation(env, FRAME_STACK))


class ChannelsLast(gym.ObservationWrapper):
    """Moves the first axis of image observations last: ``[C, H, W]`` -> ``[H, W, C]``."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        space = env.observation_space
        self.observation_space = gym.spaces.Box(
            np.moveaxis(space.low, 0, -1), np.moveaxis(space.high, 0, -1), dtype=space.dtype
        )

    def observation(self, observation: Any) -> np.ndarray:
        return np.moveaxis(np.asarray(observation), 0, -1)


def _import(module: str, install: str, env_id: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise EnvError(
            f"Env {env_id!r} needs the {module.split('.')[0]} package: pip install '{install}'."
        ) from None
