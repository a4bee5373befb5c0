"""Registers PPO and its policies with plugrl (imported when first used)."""

from typing import Any

from plugrl import hookimpl


@hookimpl
def register_algorithms(register: Any) -> None:
    register("PPO", "plugrl_ppo.ppo:PPOTrainer")


@hookimpl
def register_policies(register: Any) -> None:
    register("PPO", "torch", "plugrl_ppo.torch_policy:PPOTorchPolicy")
    register("PPO", "tf", "plugrl_ppo.tf_policy:PPOTFPolicy")
