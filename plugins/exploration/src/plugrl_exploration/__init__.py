"""Exploration strategies for plugrl, usable with any framework backend (names load on first
use)."""

from plugrl.lazy import lazy_exports
from plugrl_exploration.plugin import EXPLORATIONS

__getattr__, __dir__, __all__ = lazy_exports(
    __name__, {**EXPLORATIONS, "StochasticSampling": "plugrl.exploration"}
)
