"""What the backends' LSTM wrappers (``model.use_lstm``) share: the config of the model they
wrap, the checks on it, and the width of the previous-action input."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.config import MODEL_DEFAULTS
from plugrl.errors import ConfigError


def wrapper_config(model_config: dict, num_outputs: int | None) -> dict:
    """``model_config`` with every key (defaults for missing ones), checked for an LSTM
    wrapper with ``num_outputs`` outputs."""
    config = {**MODEL_DEFAULTS, **model_config}
    if not num_outputs:
        raise ConfigError(
            "model use_lstm=True needs a policy with action outputs (num_outputs > 0); this "
            "policy builds its model without them. Set use_lstm to false."
        )
    if config["free_log_std"]:
        raise ConfigError(
            "model use_lstm=True and free_log_std=True do not go together: the LSTM outputs the "
            "log stds too. Set free_log_std to false."
        )
    cell = config["lstm_cell_size"]
    if isinstance(cell, bool) or not isinstance(cell, int | np.integer) or cell < 1:
        raise ConfigError(f"model lstm_cell_size must be an integer >= 1, got {cell!r}.")
    return config


def base_model_config(config: dict) -> dict:
    """The config of the model an LSTM wrapper wraps: the same, without ``use_lstm``, and
    with one trunk (the wrapper has its own value head)."""
    return {**config, "use_lstm": False, "vf_share_layers": True}


def check_base(base: Any, config: dict) -> None:
    """Refuse to wrap a model that is already recurrent."""
    if list(getattr(base, "get_initial_state", list)()):
        raise ConfigError(
            f"custom_model {config['custom_model']!r} is recurrent already (its "
            "get_initial_state() is not empty): set use_lstm to false to use its own state."
        )


def prev_action_size(space: gym.Space) -> int:
    """Width of the previous action as the LSTM reads it: one-hot for Discrete and
    MultiDiscrete, flat for Box."""
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return int(np.sum(space.nvec))
    if isinstance(space, gym.spaces.Box):
        return int(np.prod(space.shape))
    raise ConfigError(
        f"model lstm_use_prev_action supports Discrete, MultiDiscrete and Box action spaces, "
        f"not {space}; set lstm_use_prev_action to false."
    )


def prev_inputs(model: Any, batch: Any) -> dict[str, Any]:
    """The ``prev_actions`` / ``prev_rewards`` columns of ``batch`` that ``model`` asks for
    (its ``uses_prev_actions`` / ``uses_prev_rewards`` attributes)."""
    out = {}
    if getattr(model, "uses_prev_actions", False):
        out["prev_actions"] = batch["prev_actions"]
    if getattr(model, "uses_prev_rewards", False):
        out["prev_rewards"] = batch["prev_rewards"]
    return out
