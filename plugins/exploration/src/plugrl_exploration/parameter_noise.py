"""ParameterNoise: explore by acting greedily with Gaussian noise added to the model's weights
(Plappert et al. 2018), the noise scale adapted so that the noisy policy stays a set distance
from the clean one."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl import Exploration, SampleBatch
from plugrl.exploration import batch_size, random_actions, zero_logp
from plugrl.sampling.seeding import numpy_random

# Target distance for discrete actions: the KL of a policy that takes a random action with
# this probability from the greedy one.
_TARGET_EPSILON = 0.01
# Target distance for continuous actions: the root-mean-square change of the action.
_TARGET_ACTION_STDDEV = 0.1
# Factor by which the noise stddev grows or shrinks after each trajectory.
_ADAPTATION = 1.01


class ParameterNoise(Exploration):
    """Uniformly random actions for ``random_timesteps`` steps; after that, the greedy action
    of the model with noise ``N(0, stddev)`` added to every weight. New noise is drawn at the
    start of each episode. It is added only for the forward pass of an exploring action
    computation and taken off before the action is returned, so learning, target networks
    and checkpoints only ever see the clean weights.

    The weights are changed through the policy's ``get_weights``/``set_weights`` (numpy), so
    this works with any backend. Use it with ``batch_mode: complete_episodes``.

    Args:
        initial_stddev: the starting noise scale (adapted after each trajectory).
        random_timesteps: initial steps of uniformly random actions.
    """

    def __init__(
        self,
        action_space: Any,
        *,
        initial_stddev: float = 1.0,
        random_timesteps: int = 10_000,
        **kwargs: Any,
    ):
        super().__init__(action_space, **kwargs)
        self.stddev = float(initial_stddev)
        self.random_timesteps = random_timesteps
        self.last_timestep = 0
        self._policy: Any = None
        self._noise: dict[str, np.ndarray] | None = None
        self._noise_applied = False

    def on_episode_start(self, policy: Any, **kwargs: Any) -> None:
        self._policy = policy
        self._noise = {
            name: numpy_random().normal(0.0, self.stddev, np.shape(w)).astype(np.asarray(w).dtype)
            for name, w in policy.get_weights().items()
            if np.issubdtype(np.asarray(w).dtype, np.floating)
        }

    def before_compute_actions(
        self, *, timestep: int | None = None, explore: bool | None = None, **kwargs: Any
    ) -> None:
        if explore:
            self._add_noise()

    def get_exploration_action(
        self, *, action_distribution: Any, timestep: int | None, explore: bool = True
    ) -> tuple[Any, Any]:
        self._remove_noise()  # the forward pass is done: the model goes back to clean weights
        n = batch_size(action_distribution)
        if explore and timestep is not None:
            self.last_timestep = timestep
        if explore and self.last_timestep < self.random_timesteps:
            return random_actions(self.action_space, n), zero_logp(n)
        return action_distribution.deterministic_sample(), zero_logp(n)

    def postprocess_trajectory(self, policy: Any, sample_batch: Any, **kwargs: Any) -> Any:
        """Grow the noise if acting with it stayed closer to the clean policy than the target,
        shrink it otherwise."""
        noisy = sample_batch.get(SampleBatch.ACTION_DIST_INPUTS)
        if noisy is None or self.last_timestep < self.random_timesteps:
            return sample_batch
        timestep = policy.global_timestep
        _, _, fetches = policy.compute_actions(sample_batch[SampleBatch.OBS], explore=False)
        policy.global_timestep = timestep  # a measurement, not experience
        clean = fetches[SampleBatch.ACTION_DIST_INPUTS]
        if isinstance(self.action_space, gym.spaces.Discrete):
            distance = _mean_kl(clean, np.asarray(noisy))
            n = self.action_space.n
            target = -math.log(1 - _TARGET_EPSILON + _TARGET_EPSILON / n)
        else:
            distance = float(np.sqrt(np.mean((clean - np.asarray(noisy)) ** 2)))
            target = _TARGET_ACTION_STDDEV
        self.stddev = self.stddev * _ADAPTATION if distance <= target else self.stddev / _ADAPTATION
        return sample_batch

    def _add_noise(self) -> None:
        if self._noise is not None and not self._noise_applied and self._policy is not None:
            self._shift_weights(1.0)
            self._noise_applied = True

    def _remove_noise(self) -> None:
        if self._noise_applied:
            self._shift_weights(-1.0)
            self._noise_applied = False

    def _shift_weights(self, sign: float) -> None:
        weights = self._policy.get_weights()
        for name, noise in self._noise.items():
            weights[name] = weights[name] + sign * noise
        self._policy.set_weights(weights)

    def get_info(self) -> dict[str, Any]:
        return {"cur_stddev": self.stddev}

    def get_state(self) -> dict[str, Any]:
        return {"stddev": self.stddev, "last_timestep": self.last_timestep}

    def set_state(self, state: dict[str, Any]) -> None:
        self.stddev = float(state["stddev"])
        self.last_timestep = int(state["last_timestep"])


def _mean_kl(logits_p: np.ndarray, logits_q: np.ndarray) -> float:
    """Mean KL(softmax(p) || softmax(q)) over the rows."""
    log_p = _log_softmax(np.asarray(logits_p, np.float64))
    log_q = _log_softmax(np.asarray(logits_q, np.float64))
    return float(np.mean(np.sum(np.exp(log_p) * (log_p - log_q), axis=-1)))


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
