"""Advantage actor-critic for plugrl: A2C (synchronous) and A3C (asynchronous gradients).
Names load on first use."""

from plugrl.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "A2C_DEFAULT_CONFIG": "plugrl_a3c.config",
        "DEFAULT_CONFIG": "plugrl_a3c.config",
        "A2CTrainer": "plugrl_a3c.a3c",
        "A3CTrainer": "plugrl_a3c.a3c",
        "AsyncGradientsOptimizer": "plugrl_a3c.async_gradients",
        "MicrobatchOptimizer": "plugrl_a3c.microbatch",
        "A3CTorchPolicy": "plugrl_a3c.torch_policy",
        "A3CTFPolicy": "plugrl_a3c.tf_policy",
    },
    needs={"A3CTorchPolicy": "torch", "A3CTFPolicy": "tensorflow"},
)
