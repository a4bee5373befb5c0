"""Proximal Policy Optimization for plugrl (names load on first use)."""

from plugrl.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "DEFAULT_CONFIG": "plugrl_ppo.config",
        "PPOTrainer": "plugrl_ppo.ppo",
        "PPOTorchPolicy": "plugrl_ppo.torch_policy",
        "PPOTFPolicy": "plugrl_ppo.tf_policy",
    },
    needs={"PPOTorchPolicy": "torch", "PPOTFPolicy": "tensorflow"},
)
