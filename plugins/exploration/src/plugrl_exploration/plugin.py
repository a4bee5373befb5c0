"""Registers plugrl's explorations by their ``exploration_config["type"]`` names (each
imported when first used)."""

from typing import Any

from plugrl import hookimpl

EXPLORATIONS = {
    "Random": "plugrl_exploration.random",
    "EpsilonGreedy": "plugrl_exploration.epsilon_greedy",
    "PerWorkerEpsilonGreedy": "plugrl_exploration.epsilon_greedy",
    "SoftQ": "plugrl_exploration.soft_q",
    "GaussianNoise": "plugrl_exploration.gaussian_noise",
    "OrnsteinUhlenbeckNoise": "plugrl_exploration.gaussian_noise",
    "ParameterNoise": "plugrl_exploration.parameter_noise",
}


@hookimpl
def register_explorations(register: Any) -> None:
    for name, module in EXPLORATIONS.items():
        register(name, f"{module}:{name}")
