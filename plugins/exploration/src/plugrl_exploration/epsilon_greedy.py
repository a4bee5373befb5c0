"""EpsilonGreedy and PerWorkerEpsilonGreedy: a random action with probability epsilon, the
greedy (argmax) action otherwise."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from plugrl import Exploration
from plugrl.exploration import batch_size, deterministic_actions, random_actions, zero_logp
from plugrl.sampling.seeding import numpy_random
from plugrl.schedules import PiecewiseSchedule


class EpsilonGreedy(Exploration):
    """Epsilon annealed linearly from ``initial_epsilon`` to ``final_epsilon`` over
    ``epsilon_timesteps`` steps, then held.

    Args:
        initial_epsilon, final_epsilon: the schedule's end points.
        epsilon_timesteps: steps over which epsilon anneals.
    """

    def __init__(
        self,
        action_space: Any,
        *,
        initial_epsilon: float = 1.0,
        final_epsilon: float = 0.05,
        epsilon_timesteps: int = 100_000,
        **kwargs: Any,
    ):
        super().__init__(action_space, **kwargs)
        self.epsilon_schedule = PiecewiseSchedule(
            [[0, initial_epsilon], [max(1, epsilon_timesteps), final_epsilon]], "epsilon"
        )
        self.last_timestep = 0

    @property
    def epsilon(self) -> float:
        return self.epsilon_schedule(self.last_timestep)

    def get_exploration_action(
        self, *, action_distribution: Any, timestep: int | None, explore: bool = True
    ) -> tuple[Any, Any]:
        greedy = deterministic_actions(action_distribution)
        n = batch_size(action_distribution)
        if not explore:
            return greedy, zero_logp(n)
        if timestep is not None:
            self.last_timestep = timestep
        explore_rows = numpy_random().random_sample(n) < self.epsilon
        actions = greedy
        if explore_rows.any():
            random = random_actions(self.action_space, n)
            mask = explore_rows.reshape(n, *([1] * (greedy.ndim - 1)))
            actions = np.where(mask, random, greedy).astype(greedy.dtype)
        if not isinstance(self.action_space, gym.spaces.Discrete):
            return actions, zero_logp(n)
        return actions, self._logp(actions, greedy)

    def log_likelihoods(self, action_distribution: Any, actions: Any) -> Any:
        greedy = deterministic_actions(action_distribution)
        return self._logp(np.asarray(actions), greedy)

    def _logp(self, actions: np.ndarray, greedy: np.ndarray) -> np.ndarray:
        """Discrete actions: ``log((1 - epsilon) * [a is greedy] + epsilon / n)``."""
        epsilon = self.epsilon
        prob = (1.0 - epsilon) * (actions == greedy) + epsilon / self.action_space.n
        return np.log(prob).astype(np.float32)

    def get_info(self) -> dict[str, Any]:
        return {"cur_epsilon": self.epsilon}

    def get_state(self) -> dict[str, Any]:
        return {"last_timestep": self.last_timestep}

    def set_state(self, state: dict[str, Any]) -> None:
        self.last_timestep = int(state["last_timestep"])


class PerWorkerEpsilonGreedy(EpsilonGreedy):
    """Ape-X style: with ``num_workers > 0`` each remote worker ``i`` of ``N`` explores with a
    fixed ``0.4 ** (1 + 7 * (i - 1) / (N - 1))`` and the local worker acts greedily; with no
    remote workers it is plain :class:`EpsilonGreedy`."""

    def __init__(self, action_space: Any, **kwargs: Any):
        super().__init__(action_space, **kwargs)
        if self.num_workers > 0:
            if self.worker_index > 0:
                spread = (self.worker_index - 1) / max(1, self.num_workers - 1)
                epsilon = 0.4 ** (1 + 7 * spread)
            else:
                epsilon = 0.0
            self.epsilon_schedule = PiecewiseSchedule([[0, epsilon]], "epsilon")
