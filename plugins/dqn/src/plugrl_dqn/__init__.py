"""DQN and SimpleQ for plugrl."""

from plugrl.lazy import lazy_policies
from plugrl_dqn.config import DEFAULT_CONFIG
from plugrl_dqn.dqn import DQNTrainer
from plugrl_dqn.replay_buffer import PrioritizedReplayBuffer, ReplayBuffer
from plugrl_dqn.replay_optimizer import SyncReplayOptimizer
from plugrl_dqn.simple_q import SimpleQTrainer

__getattr__, _policies = lazy_policies(
    __name__,
    {
        "DQNTorchPolicy": ("torch_policy", "torch"),
        "SimpleQTorchPolicy": ("torch_policy", "torch"),
        "DQNTFPolicy": ("tf_policy", "tensorflow"),
        "SimpleQTFPolicy": ("tf_policy", "tensorflow"),
    },
)
__all__ = [
    "DEFAULT_CONFIG",
    "DQNTrainer",
    "PrioritizedReplayBuffer",
    "ReplayBuffer",
    "SimpleQTrainer",
    "SyncReplayOptimizer",
    *_policies,
]
