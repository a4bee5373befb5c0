"""The framework-free parts of the DQN-family Q-networks: their constructor arguments from a
config, and the checks of spaces and custom trunks."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from plugrl.errors import ConfigError, EnvError


def q_network_args(config: dict) -> dict[str, Any]:
    """The Q head's constructor arguments from a DQN-family config (SimpleQ's plain head
    where the config lacks DQN's keys)."""
    return {
        "q_hiddens": config.get("hiddens", ()),
        "dueling": config.get("dueling", False),
        "num_atoms": config.get("num_atoms", 1),
        "v_min": config.get("v_min", -10.0),
        "v_max": config.get("v_max", 10.0),
    }


def check_discrete(action_space: gym.Space) -> None:
    """DQN chooses among finitely many actions: refuse other spaces clearly."""
    if not isinstance(action_space, gym.spaces.Discrete):
        raise EnvError(
            f"DQN needs a Discrete action space, got {action_space!r}. Use PPO for continuous "
            "or multi-discrete actions."
        )


def trunk_size(base: Any, custom_model: Any) -> int:
    """The feature size of a custom model used as the Q-network's trunk (built with
    ``num_outputs=None``, it must say how many features it returns)."""
    features = getattr(base, "num_outputs", None)
    if not features:
        raise ConfigError(
            f"custom_model {custom_model!r} used as DQN's trunk must set self.num_outputs to "
            "the size of the features it returns when built with num_outputs=None."
        )
    return int(features)
