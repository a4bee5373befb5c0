"""N-step returns for one trajectory, computed without a Python loop over its rows."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl.sample_batch import SampleBatch

DISCOUNTS = "discounts"
"""Column added by :func:`adjust_nstep`: the discount of each row's bootstrap value,
``gamma ** k`` for the ``k <= n_step`` rewards it sums."""


def adjust_nstep(n_step: int, gamma: float, batch: SampleBatch) -> SampleBatch:
    """Turn one trajectory's 1-step transitions into n-step ones, in place.

    Row ``t`` gets ``rewards = sum_{i<k} gamma**i * r[t+i]``, the ``new_obs`` and
    ``terminateds`` of row ``t+k-1`` and ``discounts = gamma**k``, where
    ``k = min(n_step, T - t)``: rows near the end sum the rewards that remain. The trajectory
    must be one episode's consecutive steps (as ``postprocess_trajectory`` receives them).
    """
    count = batch.count
    rewards = np.asarray(batch[SampleBatch.REWARDS], np.float32)
    steps = np.minimum(n_step, count - np.arange(count))
    last = np.arange(count) + steps - 1
    summed = np.zeros(count, np.float32)
    for i in range(n_step):  # n_step is small; each pass covers every row
        shifted = np.zeros(count, np.float32)
        shifted[: count - i] = rewards[i:]
        summed += np.where(i < steps, gamma**i * shifted, 0.0).astype(np.float32)
    batch[SampleBatch.REWARDS] = summed
    batch[SampleBatch.NEXT_OBS] = np.asarray(batch[SampleBatch.NEXT_OBS])[last]
    batch[SampleBatch.TERMINATEDS] = np.asarray(batch[SampleBatch.TERMINATEDS])[last]
    if SampleBatch.TRUNCATEDS in batch:
        batch[SampleBatch.TRUNCATEDS] = np.asarray(batch[SampleBatch.TRUNCATEDS])[last]
    if SampleBatch.DONES in batch:
        batch[SampleBatch.DONES] = np.asarray(batch[SampleBatch.DONES])[last]
    batch[DISCOUNTS] = (gamma**steps).astype(np.float32)
    return batch


def postprocess_nstep(
    policy: Any, batch: SampleBatch, other_agent_batches: Any = None, episode: Any = None
) -> SampleBatch:
    """n-step transitions when ``config["n_step"] > 1`` (SimpleQ has no such key: 1)."""
    n_step = policy.config.get("n_step", 1)
    return adjust_nstep(n_step, policy.config["gamma"], batch) if n_step > 1 else batch
