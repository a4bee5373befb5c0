"""Registers plugrl's explorations by their ``exploration_config["type"]`` names."""

from typing import Any

from plugrl import hookimpl
from plugrl_exploration.random import Random
from plugrl_exploration.stochastic_sampling import StochasticSampling


@hookimpl
def register_explorations(register: Any) -> None:
    register("StochasticSampling", StochasticSampling)
    register("Random", Random)
