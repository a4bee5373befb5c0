"""Exploration strategies for plugrl, usable with any framework backend."""

from plugrl.builtins.explorations import StochasticSampling  # the kernel's default
from plugrl_exploration.epsilon_greedy import EpsilonGreedy, PerWorkerEpsilonGreedy
from plugrl_exploration.gaussian_noise import GaussianNoise, OrnsteinUhlenbeckNoise
from plugrl_exploration.parameter_noise import ParameterNoise
from plugrl_exploration.random import Random
from plugrl_exploration.soft_q import SoftQ

__all__ = [
    "EpsilonGreedy",
    "GaussianNoise",
    "OrnsteinUhlenbeckNoise",
    "ParameterNoise",
    "PerWorkerEpsilonGreedy",
    "Random",
    "SoftQ",
    "StochasticSampling",
]
