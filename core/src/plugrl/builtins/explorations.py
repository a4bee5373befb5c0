"""The kernel's default exploration, StochasticSampling (:mod:`plugrl.exploration`), by name:
the default config needs no plugin."""

from typing import Any

from plugrl.hookspecs import hookimpl


def __getattr__(name: str) -> Any:
    """``StochasticSampling`` at its former import path (configs written before it moved)."""
    if name == "StochasticSampling":
        from plugrl.exploration import StochasticSampling

        return StochasticSampling
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@hookimpl
def register_explorations(register: Any) -> None:
    register("StochasticSampling", "plugrl.exploration:StochasticSampling")
