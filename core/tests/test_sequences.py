"""Sequences for recurrent policies: where batches are cut, padding with seq_lens and a mask,
minibatches of whole sequences, and the checks on max_seq_len."""

from __future__ import annotations

import numpy as np
import pytest

from plugrl import ConfigError, SampleBatch
from plugrl.policy.sequences import (
    SEQ_LENS,
    SEQ_MASK,
    check_max_seq_len,
    next_state,
    pad_into_sequences,
    sequence_minibatch_rows,
    sequence_starts,
)


def _batch() -> SampleBatch:
    """Two trajectories: episode 7 at t=3..9 (unroll 0), then episode 8 at t=0..2 (unroll 1);
    state_in_0 is the row number (as a 2-wide state), state_out_0 the row number + 100."""
    t = np.array([3, 4, 5, 6, 7, 8, 9, 0, 1, 2])
    rows = np.arange(10, dtype=np.float32)
    return SampleBatch(
        {
            "t": t,
            "eps_id": np.array([7] * 7 + [8] * 3),
            "unroll_id": np.array([0] * 7 + [1] * 3),
            "obs": rows[:, None] * np.ones((1, 3), np.float32),
            "actions": np.arange(10),
            "state_in_0": np.stack([rows, -rows], axis=1),
            "state_out_0": np.stack([rows + 100, -rows], axis=1),
            "infos": [{} for _ in range(10)],
        }
    )


def test_sequences_start_at_multiples_of_max_seq_len_and_at_trajectory_starts():
    # t=3 (start), t=4 (4 % 4), t=8, then the next episode at t=0
    assert sequence_starts(_batch(), 4).tolist() == [0, 1, 5, 7]
    assert sequence_starts(_batch(), 20).tolist() == [0, 7]


def test_sequences_also_start_where_the_rows_stop_being_consecutive_steps():
    batch = _batch()
    reordered = batch.take(np.array([5, 6, 1, 2, 3, 4]))  # t=8,9 then t=4..7 of one episode
    assert sequence_starts(reordered, 4).tolist() == [0, 2]


def test_cuts_need_the_time_column():
    batch = _batch()
    del batch["t"]
    with pytest.raises(ValueError, match="'t' column"):
        sequence_starts(batch, 4)


def test_padding_lays_each_sequence_out_in_rows_of_the_longest_with_a_mask():
    padded = pad_into_sequences(_batch(), 4)
    assert padded[SEQ_LENS].tolist() == [1, 4, 2, 3]
    assert padded[SEQ_LENS].dtype == np.int32
    assert padded[SEQ_MASK].tolist() == [
        *[True, False, False, False],
        *[True, True, True, True],
        *[True, True, False, False],
        *[True, True, True, False],
    ]
    assert padded["actions"].tolist() == [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 7, 8, 9, 0]
    assert padded["obs"].shape == (16, 3)
    assert padded["obs"][~padded[SEQ_MASK]].sum() == 0
    # one state per sequence: the state fed at its first step
    np.testing.assert_array_equal(padded["state_in_0"], [[0, 0], [1, -1], [5, -5], [7, -7]])
    assert "state_out_0" not in padded and "infos" not in padded


def test_minibatches_hold_whole_sequences_and_pad_as_the_batch_did():
    batch = _batch()
    rng = np.random.default_rng(0)
    minibatches = [batch.take(rows) for rows in sequence_minibatch_rows(batch, 5, 4, rng)]
    assert all(mb.count >= 5 for mb in minibatches)
    whole = {tuple(a) for a in np.split(batch["actions"], sequence_starts(batch, 4)[1:])}
    for mb in minibatches:
        pieces = np.split(mb["actions"], sequence_starts(mb, 4)[1:])
        assert {tuple(p) for p in pieces} <= whole
        padded = pad_into_sequences(mb, 4)
        assert sorted(padded[SEQ_LENS].tolist()) == sorted(len(p) for p in pieces)


def test_minibatches_of_a_batch_smaller_than_the_size_are_the_batch():
    (only,) = sequence_minibatch_rows(_batch(), 64, 4, np.random.default_rng(0))
    assert sorted(_batch().take(only)["actions"].tolist()) == list(range(10))


def test_next_state_is_the_last_state_out():
    (state,) = next_state(_batch())
    assert state.tolist() == [109, -9]


@pytest.mark.parametrize("value", [0, -1, 2.5, True, "20", None])
def test_max_seq_len_must_be_a_positive_integer(value):
    with pytest.raises(ConfigError, match="max_seq_len must be an integer >= 1"):
        check_max_seq_len(value)
    assert check_max_seq_len(np.int64(5)) == 5
