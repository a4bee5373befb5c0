"""Proximal Policy Optimization for plugrl."""

from plugrl.lazy import lazy_policies
from plugrl_ppo.config import DEFAULT_CONFIG
from plugrl_ppo.ppo import PPOTrainer

__getattr__, _policies = lazy_policies(
    __name__,
    {"PPOTorchPolicy": ("torch_policy", "torch"), "PPOTFPolicy": ("tf_policy", "tensorflow")},
)
__all__ = ["DEFAULT_CONFIG", "PPOTrainer", *_policies]
