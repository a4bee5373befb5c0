"""Registers plugrl's explorations by their ``exploration_config["type"]`` names."""

from typing import Any

from plugrl import hookimpl
from plugrl_exploration import (
    EpsilonGreedy,
    GaussianNoise,
    OrnsteinUhlenbeckNoise,
    ParameterNoise,
    PerWorkerEpsilonGreedy,
    Random,
    SoftQ,
)


@hookimpl
def register_explorations(register: Any) -> None:
    for cls in (
        Random,
        EpsilonGreedy,
        PerWorkerEpsilonGreedy,
        SoftQ,
        GaussianNoise,
        OrnsteinUhlenbeckNoise,
        ParameterNoise,
    ):
        register(cls.__name__, cls)
