"""The framework-free check behind the backends' example action-masking models."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from plugrl.env.preprocessors import flat_size
from plugrl.errors import ConfigError

OBSERVATION_KEYS = ("observations", "observation")  # RLlib's examples; PettingZoo's games


def check_mask_space(obs_space: Any, action_space: gym.Space) -> tuple[gym.spaces.Dict, str, int]:
    """The Dict space behind the flattened ``obs_space``, the key of its observation part
    (``"observations"``, or PettingZoo's ``"observation"``) and that part's flat size; a
    :class:`ConfigError` unless it is a Dict with an ``"action_mask"`` of one entry per action
    of a Discrete ``action_space``."""
    original = getattr(obs_space, "original_space", None)
    keys = set(original.spaces) if isinstance(original, gym.spaces.Dict) else set()
    found = [key for key in OBSERVATION_KEYS if key in keys]
    if "action_mask" not in keys or not found:
        raise ConfigError(
            f"An action-masking model needs Dict observations with keys 'action_mask' and "
            f"'observations' (or 'observation'), got "
            f"{original if original is not None else obs_space}."
        )
    if not isinstance(action_space, gym.spaces.Discrete) or flat_size(
        original["action_mask"]
    ) != int(action_space.n):
        raise ConfigError(
            f"action_mask {original['action_mask']} must have one entry per action of a "
            f"Discrete action space, got {action_space}."
        )
    return original, found[0], flat_size(original[found[0]])
