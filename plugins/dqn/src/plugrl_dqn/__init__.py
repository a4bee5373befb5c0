"""DQN and SimpleQ for plugrl."""

from plugrl_dqn.dqn import DEFAULT_CONFIG, DQNTrainer
from plugrl_dqn.replay_buffer import PrioritizedReplayBuffer, ReplayBuffer
from plugrl_dqn.replay_optimizer import SyncReplayOptimizer
from plugrl_dqn.simple_q import SimpleQTrainer

_POLICIES = {
    "DQNTorchPolicy": "torch_policy",
    "SimpleQTorchPolicy": "torch_policy",
    "DQNTFPolicy": "tf_policy",
    "SimpleQTFPolicy": "tf_policy",
}


def __getattr__(name: str):
    if name in _POLICIES:
        import importlib

        return getattr(importlib.import_module(f"plugrl_dqn.{_POLICIES[name]}"), name)
    raise AttributeError(f"module 'plugrl_dqn' has no attribute {name!r}")


__all__ = [
    "DEFAULT_CONFIG",
    "DQNTFPolicy",
    "DQNTorchPolicy",
    "DQNTrainer",
    "PrioritizedReplayBuffer",
    "ReplayBuffer",
    "SimpleQTFPolicy",
    "SimpleQTorchPolicy",
    "SimpleQTrainer",
    "SyncReplayOptimizer",
]
