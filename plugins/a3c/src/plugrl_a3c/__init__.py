"""Advantage actor-critic for plugrl: A2C (synchronous) and A3C (asynchronous gradients)."""

from plugrl.lazy import lazy_policies
from plugrl_a3c.a3c import A2CTrainer, A3CTrainer
from plugrl_a3c.async_gradients import AsyncGradientsOptimizer
from plugrl_a3c.config import A2C_DEFAULT_CONFIG, DEFAULT_CONFIG
from plugrl_a3c.microbatch import MicrobatchOptimizer

__getattr__, _policies = lazy_policies(
    __name__,
    {"A3CTorchPolicy": ("torch_policy", "torch"), "A3CTFPolicy": ("tf_policy", "tensorflow")},
)
__all__ = [
    "A2C_DEFAULT_CONFIG",
    "DEFAULT_CONFIG",
    "A2CTrainer",
    "A3CTrainer",
    "AsyncGradientsOptimizer",
    "MicrobatchOptimizer",
    *_policies,
]
