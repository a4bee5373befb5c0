"""The values that trajectories cut before their episode terminated bootstrap with, for all of
a sampler's cut trajectories in one critic call per policy."""

from __future__ import annotations

import numpy as np

from plugrl.policy.policy import Policy
from plugrl.sample_batch import SampleBatch


def bootstrap_columns(trajectories: list[SampleBatch], policy: Policy) -> list[np.ndarray | None]:
    """Per trajectory, a ``values_bootstrapped`` column (zeros but for the value of its last
    next observation) from one call of ``policy``'s
    :meth:`~plugrl.policy.Policy.bootstrap_values`, rather than one ``value`` call per
    trajectory in its postprocessing; ``None`` for a trajectory that terminated, and for all
    when the policy has no batched values. ``RolloutWorker._postprocess`` adds each column for
    the trajectory's postprocessing only, and removes it after."""
    columns: list[np.ndarray | None] = [None] * len(trajectories)
    unfinished = [i for i, t in enumerate(trajectories) if not t[SampleBatch.TERMINATEDS][-1]]
    if not unfinished:
        return columns
    next_obs = np.stack([trajectories[i][SampleBatch.NEXT_OBS][-1] for i in unfinished])
    values = policy.bootstrap_values(next_obs)
    if values is None:
        return columns
    for i, value in zip(unfinished, values, strict=True):
        column = columns[i] = np.zeros(trajectories[i].count, dtype=np.float32)
        column[-1] = value
    return columns
