"""GaussianNoise and OrnsteinUhlenbeckNoise: noise added to the deterministic action of a
continuous (Box) policy, scaled down over time."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from plugrl import Exploration
from plugrl.errors import ConfigError
from plugrl.exploration import batch_size, deterministic_actions, random_actions, zero_logp
from plugrl.sampling.seeding import numpy_random
from plugrl.schedules import PiecewiseSchedule


class GaussianNoise(Exploration):
    """Uniformly random actions for ``random_timesteps`` steps, then the deterministic action
    plus ``scale * N(0, stddev)``, clipped to the space's bounds. The scale anneals linearly
    from ``initial_scale`` to ``final_scale`` over ``scale_timesteps``.
    """

    def __init__(
        self,
        action_space: Any,
        *,
        random_timesteps: int = 1000,
        stddev: float = 0.1,
        initial_scale: float = 1.0,
        final_scale: float = 0.02,
        scale_timesteps: int = 10_000,
        **kwargs: Any,
    ):
        super().__init__(action_space, **kwargs)
        if not isinstance(action_space, gym.spaces.Box):
            raise ConfigError(
                f"{type(self).__name__} needs a Box action space, got {action_space!r}; use "
                "EpsilonGreedy or SoftQ for discrete actions."
            )
        self.random_timesteps = random_timesteps
        self.stddev = stddev
        self.scale_schedule = PiecewiseSchedule(
            [[0, initial_scale], [max(1, scale_timesteps), final_scale]], "scale"
        )
        self.last_timestep = 0

    @property
    def scale(self) -> float:
        return self.scale_schedule(self.last_timestep)

    def get_exploration_action(
        self, *, action_distribution: Any, timestep: int | None, explore: bool = True
    ) -> tuple[Any, Any]:
        n = batch_size(action_distribution)
        action = deterministic_actions(action_distribution)
        if not explore:
            return action, zero_logp(n)
        if timestep is not None:
            self.last_timestep = timestep
        if self.last_timestep < self.random_timesteps:
            return random_actions(self.action_space, n), zero_logp(n)
        noisy = action + self.noise(action.shape)
        low, high = self.action_space.low, self.action_space.high
        return np.clip(noisy, low, high).astype(self.action_space.dtype), zero_logp(n)

    def noise(self, shape: tuple[int, ...]) -> np.ndarray:
        """The noise added to a batch of actions of ``shape``."""
        return self.scale * numpy_random().normal(0.0, self.stddev, shape)

    def get_info(self) -> dict[str, Any]:
        return {"cur_scale": self.scale}

    def get_state(self) -> dict[str, Any]:
        return {"last_timestep": self.last_timestep}

    def set_state(self, state: dict[str, Any]) -> None:
        self.last_timestep = int(state["last_timestep"])


class OrnsteinUhlenbeckNoise(GaussianNoise):
    """Temporally correlated noise: an Ornstein-Uhlenbeck process
    ``x += ou_theta * -x + ou_sigma * N(0, 1)``, added as ``scale * ou_base_scale * x``
    (times ``high - low`` where the space is bounded). The process state is shared by the
    batch and carries over between calls and checkpoints.
    """

    def __init__(
        self,
        action_space: Any,
        *,
        ou_theta: float = 0.15,
        ou_sigma: float = 0.2,
        ou_base_scale: float = 0.1,
        **kwargs: Any,
    ):
        super().__init__(action_space, **kwargs)
        self.ou_theta = ou_theta
        self.ou_sigma = ou_sigma
        self.ou_base_scale = ou_base_scale
        self.ou_state = np.zeros(action_space.shape, dtype=np.float64)
        span = action_space.high - action_space.low
        self.range = np.where(np.isfinite(span), span, 1.0)

    def noise(self, shape: tuple[int, ...]) -> np.ndarray:
        step = numpy_random().standard_normal(self.ou_state.shape)
        self.ou_state += -self.ou_theta * self.ou_state + self.ou_sigma * step
        return np.broadcast_to(self.scale * self.ou_base_scale * self.ou_state * self.range, shape)

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), "ou_state": self.ou_state.tolist()}

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.ou_state = np.asarray(state["ou_state"], dtype=np.float64).reshape(self.ou_state.shape)
