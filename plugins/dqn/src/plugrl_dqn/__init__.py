"""DQN and SimpleQ for plugrl (names load on first use)."""

from plugrl.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "DEFAULT_CONFIG": "plugrl_dqn.config",
        "DQNTrainer": "plugrl_dqn.dqn",
        "PrioritizedReplayBuffer": "plugrl_dqn.replay_buffer",
        "ReplayBuffer": "plugrl_dqn.replay_buffer",
        "SyncReplayOptimizer": "plugrl_dqn.replay_optimizer",
        "SimpleQTrainer": "plugrl_dqn.simple_q",
        "DQNTorchPolicy": "plugrl_dqn.torch_policy",
        "SimpleQTorchPolicy": "plugrl_dqn.torch_policy",
        "DQNTFPolicy": "plugrl_dqn.tf_policy",
        "SimpleQTFPolicy": "plugrl_dqn.tf_policy",
    },
    needs={
        "DQNTorchPolicy": "torch",
        "SimpleQTorchPolicy": "torch",
        "DQNTFPolicy": "tensorflow",
        "SimpleQTFPolicy": "tensorflow",
    },
)
