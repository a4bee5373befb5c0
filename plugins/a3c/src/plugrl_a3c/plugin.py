"""Registers A2C, A3C and their policy optimizers with plugrl."""

from typing import Any

from plugrl import hookimpl


@hookimpl
def register_algorithms(register: Any) -> None:
    def load_a2c() -> type:
        from plugrl_a3c.a3c import A2CTrainer

        return A2CTrainer

    def load_a3c() -> type:
        from plugrl_a3c.a3c import A3CTrainer

        return A3CTrainer

    register("A2C", load_a2c)
    register("A3C", load_a3c)


@hookimpl
def register_optimizers(register: Any) -> None:
    from plugrl_a3c.async_gradients import AsyncGradientsOptimizer
    from plugrl_a3c.microbatch import MicrobatchOptimizer

    register("AsyncGradientsOptimizer", AsyncGradientsOptimizer)
    register("MicrobatchOptimizer", MicrobatchOptimizer)
