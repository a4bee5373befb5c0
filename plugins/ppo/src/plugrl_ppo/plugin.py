"""Registers PPO with plugrl."""

from typing import Any

from plugrl import hookimpl


@hookimpl
def register_algorithms(register: Any) -> None:
    def load() -> type:
        from plugrl_ppo.ppo import PPOTrainer

        return PPOTrainer

    register("PPO", load)
