"""Advantage actor-critic for plugrl: A2C (synchronous) and A3C (asynchronous gradients)."""

from plugrl_a3c.a3c import A2C_DEFAULT_CONFIG, DEFAULT_CONFIG, A2CTrainer, A3CTrainer
from plugrl_a3c.async_gradients import AsyncGradientsOptimizer
from plugrl_a3c.microbatch import MicrobatchOptimizer


def __getattr__(name: str):
    if name == "A3CTorchPolicy":
        from plugrl_a3c.torch_policy import A3CTorchPolicy

        return A3CTorchPolicy
    raise AttributeError(f"module 'plugrl_a3c' has no attribute {name!r}")


__all__ = [
    "A2C_DEFAULT_CONFIG",
    "DEFAULT_CONFIG",
    "A2CTrainer",
    "A3CTorchPolicy",
    "A3CTrainer",
    "AsyncGradientsOptimizer",
    "MicrobatchOptimizer",
]
