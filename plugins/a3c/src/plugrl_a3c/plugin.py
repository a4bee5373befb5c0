"""Registers A2C, A3C, their policies and their policy optimizers with plugrl."""

from typing import Any

from plugrl import hookimpl


@hookimpl
def register_algorithms(register: Any) -> None:
    register("A2C", "plugrl_a3c.a3c:A2CTrainer")
    register("A3C", "plugrl_a3c.a3c:A3CTrainer")


@hookimpl
def register_policies(register: Any) -> None:
    # A2C derives from A3C (with_updates), so it finds these too.
    register("A3C", "torch", "plugrl_a3c.torch_policy:A3CTorchPolicy")
    register("A3C", "tf", "plugrl_a3c.tf_policy:A3CTFPolicy")


@hookimpl
def register_optimizers(register: Any) -> None:
    register("AsyncGradientsOptimizer", "plugrl_a3c.async_gradients:AsyncGradientsOptimizer")
    register("MicrobatchOptimizer", "plugrl_a3c.microbatch:MicrobatchOptimizer")
