"""Registers PG and its policies with plugrl (each imported when first used)."""

from typing import Any

from plugrl import hookimpl


@hookimpl
def register_algorithms(register: Any) -> None:
    register("PG", "plugrl_pg.pg:PGTrainer")


@hookimpl
def register_policies(register: Any) -> None:
    register("PG", "torch", "plugrl_pg.torch_policy:PGTorchPolicy")
    register("PG", "tf", "plugrl_pg.tf_policy:PGTFPolicy")
