"""Policy: how an agent acts (compute_actions) and learns (learn_on_batch).

A policy written from scratch subclasses :class:`Policy` and implements ``compute_actions``,
``learn_on_batch`` (or ``compute_gradients``/``apply_gradients``) and ``get/set_weights``.
:class:`~plugrl.policy.template.TemplatePolicy` implements them all once, over a framework
backend's tensor primitives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.checkpoint import write_state
from plugrl.sample_batch import Rows, SampleBatch
from plugrl.worker_context import WorkerContext

Weights = dict[str, Any]
"""Policy weights: parameter name -> numpy array, the same names across frameworks."""


def learner_stats(stats: dict) -> dict:
    """A policy's learner stats from what ``learn_on_batch`` returned (backends nest them
    under ``"learner_stats"``; a policy written from scratch may not)."""
    return stats.get("learner_stats", stats)


def mean_stats(updates: Sequence[dict[str, Any]], last: int | None = None) -> dict[str, float]:
    """Each stat averaged over the updates that reported it (of the ``last`` updates only,
    when given)."""
    values: dict[str, list] = defaultdict(list)
    for stats in updates[-last:] if last else updates:
        for key, value in stats.items():
            values[key].append(value)
    return {key: float(np.mean(v)) for key, v in values.items()}


class Policy:
    """Base class of every policy.

    Attributes: ``observation_space`` (after preprocessing), ``action_space``, ``config``,
    ``context`` (the :class:`~plugrl.worker_context.WorkerContext` of the worker it lives on),
    ``global_timestep`` (env steps sampled so far, set through ``on_global_var_update``),
    ``exploration`` (or None) and ``model`` (or None).
    """

    framework: str | None = None
    """The backend a policy class runs on ("torch", "tf"); rollout workers seed it."""

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, config: dict):
        self.observation_space = observation_space
        self.action_space = action_space
        self.config = config
        self.context = WorkerContext()
        self.global_timestep = 0
        self.exploration: Any = None
        self.model: Any = None

    # --- acting -----------------------------------------------------------------------------

    def compute_actions(
        self,
        obs_batch: Any,
        state_batches: list | None = None,
        prev_action_batch: Any = None,
        prev_reward_batch: Any = None,
        info_batch: Any = None,
        episodes: list | None = None,
        explore: bool | None = None,
        timestep: int | None = None,
        **kwargs: Any,
    ) -> tuple[Any, list, dict[str, np.ndarray]]:
        """Actions for a batch of observations: ``(actions, state_outs, extra_fetches)``."""
        raise NotImplementedError

    def compute_single_action(
        self,
        obs: Any,
        state: list | None = None,
        prev_action: Any = None,
        prev_reward: Any = None,
        info: Any = None,
        episode: Any = None,
        clip_actions: bool = False,
        explore: bool | None = None,
        timestep: int | None = None,
        **kwargs: Any,
    ) -> tuple[Any, list, dict[str, Any]]:
        """One action for one observation: ``(action, state_out, extra_fetches)``."""
        actions, state_out, extra = self.compute_actions(
            [obs],
            [[s] for s in state or []],
            prev_action_batch=None if prev_action is None else [prev_action],
            prev_reward_batch=None if prev_reward is None else [prev_reward],
            info_batch=None if info is None else [info],
            episodes=None if episode is None else [episode],
            explore=explore,
            timestep=timestep,
            **kwargs,
        )
        action = actions[0]
        if clip_actions and isinstance(self.action_space, gym.spaces.Box):
            action = np.clip(action, self.action_space.low, self.action_space.high)
        return action, [s[0] for s in state_out], {k: v[0] for k, v in extra.items()}

    def compute_log_likelihoods(
        self, actions: Any, obs_batch: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """Log-probabilities of ``actions`` in ``obs_batch`` as this policy explores (used by
        off-policy estimation)."""
        raise NotImplementedError(
            f"{type(self).__name__} gives no action probabilities, which off-policy estimation "
            "needs: set input_evaluation: [] (or implement compute_log_likelihoods)."
        )

    def get_initial_state(self) -> list:
        """Initial recurrent state (empty for feed-forward policies)."""
        return []

    def is_recurrent(self) -> bool:
        return bool(self.get_initial_state())

    # --- learning ---------------------------------------------------------------------------

    def postprocess_trajectory(
        self,
        sample_batch: SampleBatch,
        other_agent_batches: dict | None = None,
        episode: Any = None,
    ) -> SampleBatch:
        """Add columns (advantages, n-step returns...) to one trajectory; identity by default."""
        return sample_batch

    def bootstrap_values(self, next_obs: np.ndarray) -> np.ndarray | None:
        """The values that trajectories which did not terminate, each ending before one of
        ``next_obs``, bootstrap with in :meth:`postprocess_trajectory`, computed for all of
        them at once (the sampler adds each as the last row of a ``values_bootstrapped``
        column); ``None``, the default, when the policy's postprocessing finds its own."""
        return None

    def learn_on_batch(self, samples: SampleBatch) -> dict:
        """Update on ``samples``; returns stats (``{"learner_stats": {...}}`` for backends)."""
        grads, info = self.compute_gradients(samples)
        self.apply_gradients(grads)
        return info

    def learn_on_minibatches(
        self,
        samples: SampleBatch,
        minibatches: Sequence[Rows],
        *,
        stats_of_last: int | None = None,
    ) -> dict[str, float]:
        """One update per minibatch (some rows of ``samples``), in order; returns the learner
        stats averaged over the last ``stats_of_last`` updates (all when ``None``; an
        optimizer running epochs reports the last epoch's). By default one
        :meth:`learn_on_batch` each; a policy that can keep the batch on its device, or skip
        the stats nobody reads, overrides this."""
        updates = [learner_stats(self.learn_on_batch(samples.take(rows))) for rows in minibatches]
        return mean_stats(updates, last=stats_of_last)

    def compute_gradients(self, postprocessed_batch: SampleBatch) -> tuple[Any, dict]:
        """Gradients of the loss on a batch, as numpy arrays, and stats."""
        raise NotImplementedError(f"{type(self).__name__} does not compute gradients")

    def apply_gradients(self, gradients: Any) -> None:
        """Apply gradients from :meth:`compute_gradients` (possibly another worker's)."""
        raise NotImplementedError(f"{type(self).__name__} does not apply gradients")

    # --- state ------------------------------------------------------------------------------

    def get_weights(self) -> Weights:
        """Model weights as ``{name: numpy array}``."""
        raise NotImplementedError

    def set_weights(self, weights: Weights) -> None:
        raise NotImplementedError

    def get_state(self) -> dict[str, Any]:
        """Everything needed to resume: weights, timestep, exploration state, optimizer."""
        state: dict[str, Any] = {
            "weights": self.get_weights(),
            "global_timestep": self.global_timestep,
        }
        if self.exploration is not None and hasattr(self.exploration, "get_state"):
            state["exploration"] = self.exploration.get_state()
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        self.set_weights(state["weights"])
        self.global_timestep = int(state.get("global_timestep", 0))
        if "exploration" in state and self.exploration is not None:
            self.exploration.set_state(state["exploration"])

    def on_global_var_update(self, global_vars: dict[str, Any]) -> None:
        """Receive global variables from the trainer; ``timestep`` drives schedules."""
        self.global_timestep = int(global_vars.get("timestep", self.global_timestep))

    def export_checkpoint(self, export_dir: str) -> None:
        """Write this policy's state to ``export_dir`` in the plugrl checkpoint format."""
        write_state(export_dir, {"policy": self.get_state()})
