"""SimpleQ: DQN without its improvements (no dueling, double Q, n-step or prioritized replay):
a Q-network with a target network, trained on uniformly replayed batches."""

from __future__ import annotations

from typing import Any

from plugrl.config import with_common_config
from plugrl_dqn import dqn

DEFAULT_CONFIG = with_common_config(
    {
        key: dqn.DEFAULT_CONFIG[key]
        for key in (
            "exploration_config",
            "evaluation_config",
            "timesteps_per_iteration",
            "min_iter_time_s",
            "target_network_update_freq",
            "buffer_size",
            "store_buffer_in_checkpoints",
            "before_learn_on_batch",
            "training_intensity",
            "lr",
            "lr_schedule",
            "adam_epsilon",
            "grad_clip",
            "learning_starts",
            "rollout_fragment_length",
            "train_batch_size",
        )
    }
)


def get_policy_class(config: dict[str, Any]) -> type:
    return dqn._policy_for("SimpleQ", config["framework"])


SimpleQTrainer = dqn.DQNTrainer.with_updates(
    name="SimpleQ",
    default_config=DEFAULT_CONFIG,
    get_policy_class=get_policy_class,
    validate_config=dqn.validate_replay_config,
)
