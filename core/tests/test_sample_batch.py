"""SampleBatch: construction checks, concat, slicing, shuffling, episodes, minibatches."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from plugrl import SampleBatch


def _batch(n: int = 6, start: int = 0, eps: list[int] | None = None) -> SampleBatch:
    return SampleBatch(
        {
            "obs": np.arange(start, start + n, dtype=np.float32).reshape(n, 1) * np.ones((1, 2)),
            "rewards": np.arange(start, start + n, dtype=np.float32),
            "eps_id": np.asarray(eps if eps is not None else [0] * n, dtype=np.int64),
        }
    )


def test_count_and_columns_are_numpy():
    b = SampleBatch({"a": [1, 2, 3], "b": np.zeros((3, 2))})
    assert b.count == 3 and len(b) == 3
    assert isinstance(b["a"], np.ndarray)
    b["c"] = [4, 5, 6]
    assert isinstance(b["c"], np.ndarray)
    assert SampleBatch().count == 0
    assert not SampleBatch()


def test_unequal_lengths_are_refused():
    with pytest.raises(ValueError, match="equal lengths"):
        SampleBatch({"a": [1, 2, 3], "b": [1, 2]})


def test_concat_samples():
    a, b = _batch(3, 0), _batch(4, 3)
    c = SampleBatch.concat_samples([a, SampleBatch(), b])
    assert c.count == 7
    np.testing.assert_array_equal(c["rewards"], np.arange(7, dtype=np.float32))
    assert c["obs"].shape == (7, 2)
    np.testing.assert_array_equal(a.concat(b)["rewards"], c["rewards"])


def test_concat_refuses_different_columns():
    a = _batch(3)
    b = SampleBatch({"obs": np.zeros((2, 2)), "rewards": np.zeros(2)})
    with pytest.raises(ValueError, match="different columns"):
        SampleBatch.concat_samples([a, b])


def test_slice_and_copy_are_independent():
    b = _batch(6)
    s = b.slice(2, 5)
    np.testing.assert_array_equal(s["rewards"], [2, 3, 4])
    c = b.copy()
    c["rewards"][0] = 99
    assert b["rewards"][0] == 0


def test_shuffle_permutes_rows_consistently():
    b = _batch(50)
    b.shuffle(np.random.default_rng(0))
    assert not np.array_equal(b["rewards"], np.arange(50))
    np.testing.assert_array_equal(np.sort(b["rewards"]), np.arange(50))
    # rows stay aligned across columns
    np.testing.assert_array_equal(b["obs"][:, 0], b["rewards"])


def test_split_by_episode():
    b = _batch(7, eps=[5, 5, 9, 9, 9, 5, 5])
    parts = b.split_by_episode()
    assert [p.count for p in parts] == [2, 3, 2]
    assert [int(p["eps_id"][0]) for p in parts] == [5, 9, 5]
    np.testing.assert_array_equal(parts[1]["rewards"], [2, 3, 4])


def test_minibatches_cover_rows_once_and_drop_remainder():
    b = _batch(10)
    mbs = [b.take(rows) for rows in b.minibatch_rows(3, np.random.default_rng(1))]
    assert [m.count for m in mbs] == [3, 3, 3]
    seen = np.concatenate([m["rewards"] for m in mbs])
    assert len(set(seen.tolist())) == 9
    for m in mbs:
        np.testing.assert_array_equal(m["obs"][:, 1], m["rewards"])


def test_timeslices():
    assert [s.count for s in _batch(7).timeslices(3)] == [3, 3, 1]


def test_infos_column_of_dicts_is_object_array():
    b = SampleBatch({"infos": [{"a": 1}, {}], "rewards": [0.0, 1.0]})
    assert b["infos"].dtype == object and b["infos"][0] == {"a": 1}


def test_numeric_columns_pickle_as_out_of_band_buffers():
    """Remote workers' batches travel through Ray's object store as pickle-5 buffers: the
    numeric columns are not copied into the pickle stream."""
    rows = 1000
    batch = SampleBatch(
        {
            "obs": np.zeros((rows, 4), np.float32),
            "actions": np.zeros(rows, np.int64),
            "rewards": np.ones(rows, np.float32),
            "infos": np.array([{} for _ in range(rows)], dtype=object),
        }
    )
    buffers: list = []
    stream = pickle.dumps(batch, protocol=5, buffer_callback=buffers.append)
    assert sum(b.raw().nbytes for b in buffers) == rows * (16 + 8 + 4)
    assert len(stream) < 4 * rows  # the infos (a few bytes each) and the names: no columns
    copy = pickle.loads(stream, buffers=buffers)
    assert isinstance(copy, SampleBatch) and copy.count == rows
    np.testing.assert_array_equal(copy["rewards"], batch["rewards"])
