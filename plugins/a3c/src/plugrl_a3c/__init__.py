"""Advantage actor-critic for plugrl: A2C (synchronous) and A3C (asynchronous gradients)."""

from importlib.util import find_spec

from plugrl_a3c.a3c import A2C_DEFAULT_CONFIG, DEFAULT_CONFIG, A2CTrainer, A3CTrainer
from plugrl_a3c.async_gradients import AsyncGradientsOptimizer
from plugrl_a3c.microbatch import MicrobatchOptimizer


def __getattr__(name: str):
    if name == "A3CTorchPolicy":
        from plugrl_a3c.torch_policy import A3CTorchPolicy

        return A3CTorchPolicy
    if name == "A3CTFPolicy":
        from plugrl_a3c.tf_policy import A3CTFPolicy

        return A3CTFPolicy
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
# A star-import works without TF installed (and then brings no TF policy).
if find_spec("plugrl_tf") and find_spec("tensorflow"):
    __all__.append("A3CTFPolicy")
