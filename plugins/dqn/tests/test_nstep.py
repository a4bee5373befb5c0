"""N-step adjustment against a direct per-row computation."""

from __future__ import annotations

import numpy as np
import pytest

from plugrl import SampleBatch
from plugrl_dqn.postprocessing import DISCOUNTS, adjust_nstep


def _trajectory(terminated_at_end: bool) -> SampleBatch:
    n = 7
    terminateds = np.zeros(n, bool)
    terminateds[-1] = terminated_at_end
    return SampleBatch(
        {
            "obs": np.arange(n, dtype=np.float32)[:, None],
            "new_obs": np.arange(1, n + 1, dtype=np.float32)[:, None],
            "rewards": np.array([1.0, 2.0, 0.5, -1.0, 3.0, 0.0, 2.0], np.float32),
            "terminateds": terminateds,
            "truncateds": np.zeros(n, bool),
        }
    )


@pytest.mark.parametrize("terminated_at_end", [True, False])
@pytest.mark.parametrize("n_step", [1, 3])
def test_nstep_matches_direct_sums(n_step, terminated_at_end):
    gamma = 0.9
    original = _trajectory(terminated_at_end)
    batch = adjust_nstep(n_step, gamma, original.copy())
    rewards = original["rewards"]
    for t in range(len(rewards)):
        k = min(n_step, len(rewards) - t)
        expected = sum(gamma**i * rewards[t + i] for i in range(k))
        assert batch["rewards"][t] == pytest.approx(expected, rel=1e-6)
        assert batch["new_obs"][t, 0] == t + k
        assert batch[DISCOUNTS][t] == pytest.approx(gamma**k)
        assert batch["terminateds"][t] == original["terminateds"][t + k - 1]
