"""Replay buffers: circular storage, proportional sampling, importance weights, state."""

from __future__ import annotations

import numpy as np
import pytest

from plugrl import SampleBatch
from plugrl_dqn import PrioritizedReplayBuffer, ReplayBuffer
from plugrl_dqn.replay_buffer import BATCH_INDEXES, WEIGHTS, PriorityTree


def _rows(start: int, n: int) -> SampleBatch:
    ids = np.arange(start, start + n)
    return SampleBatch(
        {
            "obs": np.stack([ids, ids], axis=1).astype(np.float64),
            "actions": ids % 2,
            "infos": np.array([{}] * n, dtype=object),
        }
    )


def test_uniform_buffer_keeps_the_newest_rows():
    buffer = ReplayBuffer(5, seed=0)
    buffer.add(_rows(0, 3))
    buffer.add(_rows(3, 4))
    assert len(buffer) == 5 and buffer.num_added == 7
    batch = buffer.sample(200)
    assert set(batch["obs"][:, 0].astype(int)) == {2, 3, 4, 5, 6}
    assert batch["obs"].dtype == np.float32 and "infos" not in batch
    np.testing.assert_array_equal(batch[WEIGHTS], np.ones(200))
    buffer.add(_rows(100, 12))  # more than capacity at once: the last 5 win
    assert set(buffer.sample(200)["obs"][:, 0].astype(int)) == set(range(107, 112))


def test_priority_tree_matches_numpy_after_batched_updates():
    rng = np.random.default_rng(0)
    tree = PriorityTree(37)
    values = rng.random(37) + 0.1
    tree.set(np.arange(37), values)
    for _ in range(20):
        slots = rng.integers(37, size=10)  # with repeats: the last write wins
        new = rng.random(10)
        tree.set(slots, new)
        values[slots] = new
        assert tree.total == pytest.approx(values.sum())
        assert tree.minimum == pytest.approx(values.min())
    cumulative = np.cumsum(values)
    targets = rng.random(100) * values.sum()
    np.testing.assert_array_equal(
        tree.find_prefix_sum(targets), np.searchsorted(cumulative, targets, side="right")
    )


def test_prioritized_sampling_is_proportional_with_exact_weights():
    buffer = PrioritizedReplayBuffer(4, alpha=1.0, eps=0.0, seed=0)
    buffer.add(_rows(0, 4))
    buffer.update_priorities(np.arange(4), np.array([1.0, 2.0, 3.0, 4.0]))
    batch = buffer.sample(40_000, beta=0.5)
    shares = np.bincount(batch[BATCH_INDEXES], minlength=4) / 40_000
    np.testing.assert_allclose(shares, [0.1, 0.2, 0.3, 0.4], atol=0.01)
    # w_i = (N P_i)^-beta / max_j (N P_j)^-beta, and P_i = p_i / 10
    expected = (np.array([1.0, 2.0, 3.0, 4.0]) / 1.0) ** -0.5
    np.testing.assert_allclose(batch[WEIGHTS], expected[batch[BATCH_INDEXES]], rtol=1e-5)
    assert batch[WEIGHTS].max() == pytest.approx(1.0)


def test_new_rows_get_the_highest_priority_and_alpha_flattens():
    buffer = PrioritizedReplayBuffer(8, alpha=0.5, eps=0.0, seed=1)
    buffer.add(_rows(0, 2))
    buffer.update_priorities(np.array([0, 1]), np.array([9.0, 1.0]))  # p^0.5: 3 and 1
    buffer.add(_rows(2, 1))  # max priority seen (9) -> 3
    shares = np.bincount(buffer.sample(30_000)[BATCH_INDEXES], minlength=3) / 30_000
    np.testing.assert_allclose(shares, [3 / 7, 1 / 7, 3 / 7], atol=0.01)


def test_buffer_state_round_trips():
    buffer = PrioritizedReplayBuffer(6, seed=2)
    buffer.add(_rows(0, 4))
    buffer.update_priorities(np.arange(4), np.array([0.5, 1.0, 1.5, 2.0]))
    restored = PrioritizedReplayBuffer(6, seed=99)
    restored.set_state(buffer.get_state())
    assert len(restored) == 4 and restored.max_priority == buffer.max_priority
    a, b = buffer.sample(10), restored.sample(10)
    np.testing.assert_array_equal(a[BATCH_INDEXES], b[BATCH_INDEXES])
    np.testing.assert_array_equal(a["obs"], b["obs"])
