"""SimpleQ: DQN without its improvements (no dueling, double Q, n-step or prioritized replay):
a Q-network with a target network, trained on uniformly replayed batches."""

from __future__ import annotations

from typing import Any

from plugrl_dqn.config import SIMPLE_Q_DEFAULT_CONFIG, SimpleQConfig
from plugrl_dqn.dqn import DQNTrainer, validate_replay_config

SimpleQTrainer = DQNTrainer.with_updates(
    name="SimpleQ",
    default_config=SIMPLE_Q_DEFAULT_CONFIG,
    validate_config=validate_replay_config,
    config_schema=SimpleQConfig,
)


def simple_q_config() -> dict[str, Any]:
    return SIMPLE_Q_DEFAULT_CONFIG
