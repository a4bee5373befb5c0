"""Registers MARWIL, BC and their policies with plugrl (each imported when first used). BC
derives from MARWIL, so it finds MARWIL's policies."""

from typing import Any

from plugrl import hookimpl


@hookimpl
def register_algorithms(register: Any) -> None:
    register("MARWIL", "plugrl_marwil.marwil:MARWILTrainer")
    register("BC", "plugrl_marwil.marwil:BCTrainer")


@hookimpl
def register_policies(register: Any) -> None:
    register("MARWIL", "torch", "plugrl_marwil.torch_policy:MARWILTorchPolicy")
    register("MARWIL", "tf", "plugrl_marwil.tf_policy:MARWILTFPolicy")
