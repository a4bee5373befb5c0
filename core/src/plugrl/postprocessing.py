"""Advantage estimation: GAE and discounted returns over one trajectory."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl.policy.sequences import next_state
from plugrl.sample_batch import SampleBatch


class Postprocessing:
    """Names of the columns :func:`compute_advantages` adds."""

    ADVANTAGES = "advantages"
    VALUE_TARGETS = "value_targets"


def discount_cumsum(x: np.ndarray, gamma: float) -> np.ndarray:
    """``y[t] = x[t] + gamma * y[t + 1]``, computed backwards in float32."""
    out = np.empty(len(x), dtype=np.float32)
    running = 0.0
    for t in range(len(x) - 1, -1, -1):
        running = x[t] + gamma * running
        out[t] = running
    return out


def compute_advantages(
    rollout: SampleBatch,
    last_r: float,
    gamma: float = 0.9,
    lambda_: float = 1.0,
    use_gae: bool = True,
    use_critic: bool = True,
) -> SampleBatch:
    """Add ``advantages`` and ``value_targets`` to one trajectory (one episode or fragment).

    ``last_r`` is the value of the state after the last step: 0 when the episode terminated,
    the critic's estimate when it was truncated or cut. With ``use_gae`` the advantages are
    GAE(gamma, lambda) over the TD errors; otherwise they are the discounted returns, minus
    ``vf_preds`` when ``use_critic``.
    """
    rewards = np.asarray(rollout[SampleBatch.REWARDS], dtype=np.float32)
    if use_gae:
        if SampleBatch.VF_PREDS not in rollout:
            raise ValueError("use_gae=True needs the 'vf_preds' column (a critic's predictions)")
        vpred = np.asarray(rollout[SampleBatch.VF_PREDS], dtype=np.float32)
        next_values = np.append(vpred[1:], np.float32(last_r))
        deltas = rewards + gamma * next_values - vpred
        advantages = discount_cumsum(deltas, gamma * lambda_)
        targets = advantages + vpred
    else:
        returns = discount_cumsum(np.append(rewards, np.float32(last_r)), gamma)[:-1]
        if use_critic:
            advantages = returns - np.asarray(rollout[SampleBatch.VF_PREDS], dtype=np.float32)
            targets = returns
        else:
            advantages = returns
            targets = np.zeros_like(returns)
    rollout[Postprocessing.ADVANTAGES] = advantages.astype(np.float32)
    rollout[Postprocessing.VALUE_TARGETS] = targets.astype(np.float32)
    return rollout


def postprocess_advantages(
    policy: Any, sample_batch: SampleBatch, other_agent_batches: Any = None, episode: Any = None
) -> SampleBatch:
    """A ``postprocess_fn`` adding advantages and value targets with the policy's ``gamma``,
    ``lambda``, ``use_gae`` and ``use_critic``. A trajectory that ended by termination
    bootstraps with 0; one that was truncated or cut bootstraps with the critic's value of its
    last next-observation: the last row of its ``values_bootstrapped`` column, which the
    sampler adds from :meth:`~plugrl.policy.Policy.bootstrap_values` (and removes after), or
    else ``policy.value(obs)`` (a recurrent policy's from its last state out)."""
    bootstrapped = sample_batch.get(SampleBatch.VALUES_BOOTSTRAPPED)
    if sample_batch[SampleBatch.TERMINATEDS][-1] or not policy.config["use_critic"]:
        last_r = 0.0
    elif bootstrapped is not None:
        last_r = float(bootstrapped[-1])
    else:
        obs = sample_batch[SampleBatch.NEXT_OBS][-1]
        state = next_state(sample_batch)
        if state or getattr(policy, "prev_inputs", None):
            # a recurrent policy, or a model that reads the previous step: the state after the
            # last step, and that step
            actions, rewards = sample_batch[SampleBatch.ACTIONS], sample_batch[SampleBatch.REWARDS]
            last_r = policy.value(obs, state, actions[-1], rewards[-1])
        else:
            last_r = policy.value(obs)
    return compute_advantages(
        sample_batch,
        last_r,
        policy.config["gamma"],
        policy.config["lambda"],
        use_gae=policy.config["use_gae"],
        use_critic=policy.config["use_critic"],
    )


def vf_preds_fetches(
    policy: Any, input_dict: dict, state: list, model: Any, action_dist: Any
) -> dict[str, Any]:
    """An ``extra_action_out_fn`` storing the critic's predictions made while acting as
    ``vf_preds`` (GAE and PPO's value clipping read them)."""
    return {SampleBatch.VF_PREDS: model.value_function()}
