"""Proximal Policy Optimization for plugrl."""

from plugrl_ppo.ppo import DEFAULT_CONFIG, PPOTrainer


def __getattr__(name: str):
    if name == "PPOTorchPolicy":
        from plugrl_ppo.torch_policy import PPOTorchPolicy

        return PPOTorchPolicy
    if name == "PPOTFPolicy":
        from plugrl_ppo.tf_policy import PPOTFPolicy

        return PPOTFPolicy
    raise AttributeError(f"module 'plugrl_ppo' has no attribute {name!r}")


__all__ = ["DEFAULT_CONFIG", "PPOTFPolicy", "PPOTorchPolicy", "PPOTrainer"]
