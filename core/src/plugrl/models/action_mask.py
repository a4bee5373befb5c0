"""The framework-free check behind the backends' example action-masking models."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from plugrl.env.preprocessors import flat_size
from plugrl.errors import ConfigError


def check_mask_space(obs_space: Any, action_space: gym.Space) -> tuple[gym.spaces.Dict, int]:
    """The Dict space behind the flattened ``obs_space`` and the flat size of its
    ``"observations"`` part; a :class:`ConfigError` unless it is a Dict with an
    ``"action_mask"`` of one entry per action of a Discrete ``action_space``."""
    original = getattr(obs_space, "original_space", None)
    keys = set(original.spaces) if isinstance(original, gym.spaces.Dict) else set()
    if not {"action_mask", "observations"} <= keys:
        raise ConfigError(
            f"An action-masking model needs Dict observations with keys 'action_mask' and "
            f"'observations', got {original if original is not None else obs_space}."
        )
    if not isinstance(action_space, gym.spaces.Discrete) or flat_size(
        original["action_mask"]
    ) != int(action_space.n):
        raise ConfigError(
            f"action_mask {original['action_mask']} must have one entry per action of a "
            f"Discrete action space, got {action_space}."
        )
    return original, flat_size(original["observations"])
