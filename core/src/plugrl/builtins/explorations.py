"""The kernel's default exploration, StochasticSampling (:mod:`plugrl.exploration`), by name:
the default config needs no plugin."""

from typing import Any

from plugrl.hookspecs import hookimpl


@hookimpl
def register_explorations(register: Any) -> None:
    register("StochasticSampling", "plugrl.exploration:StochasticSampling")
