"""The framework-free parts of the DQN-family policies: n-step postprocessing, learner stats,
TD-error fetches and default configs."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from plugrl.errors import ConfigError, EnvError
from plugrl.sample_batch import SampleBatch
from plugrl_dqn.config import DEFAULT_CONFIG, SIMPLE_Q_DEFAULT_CONFIG
from plugrl_dqn.postprocessing import adjust_nstep


def postprocess_nstep(
    policy: Any, batch: SampleBatch, other_agent_batches: Any = None, episode: Any = None
) -> SampleBatch:
    """n-step transitions when ``config["n_step"] > 1`` (SimpleQ has no such key: 1)."""
    n_step = policy.config.get("n_step", 1)
    return adjust_nstep(n_step, policy.config["gamma"], batch) if n_step > 1 else batch


def q_stats(policy: Any, train_batch: Any) -> dict[str, Any]:
    """The learning rate and the Q statistics the loss left in ``policy._q_stats``."""
    return {"cur_lr": policy.cur_lr, **policy._q_stats}


def td_error_fetches(policy: Any) -> dict[str, Any]:
    """The TD errors of the last update, which become the rows' new priorities."""
    return {"td_error": policy._td_error}


def dqn_config() -> dict:
    return DEFAULT_CONFIG


def simple_q_config() -> dict:
    return SIMPLE_Q_DEFAULT_CONFIG


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
