"""SimpleQ: DQN without its improvements (no dueling, double Q, n-step or prioritized replay):
a Q-network with a target network, trained on uniformly replayed batches."""

from __future__ import annotations

from typing import Any

from plugrl_dqn import dqn
from plugrl_dqn.config import SIMPLE_Q_DEFAULT_CONFIG


def get_policy_class(config: dict[str, Any]) -> type:
    return dqn._policy_for("SimpleQ", config["framework"])


SimpleQTrainer = dqn.DQNTrainer.with_updates(
    name="SimpleQ",
    default_config=SIMPLE_Q_DEFAULT_CONFIG,
    get_policy_class=get_policy_class,
    validate_config=dqn.validate_replay_config,
)
