"""Exploration strategies for plugrl, usable with any framework backend."""

from plugrl_exploration.random import Random
from plugrl_exploration.stochastic_sampling import StochasticSampling

__all__ = ["Random", "StochasticSampling"]
