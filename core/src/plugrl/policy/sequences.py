"""Sequences for recurrent policies: where a batch's rows are cut into sequences, minibatches
of whole sequences, and a batch padded into sequences for a recurrent loss.

A sampled batch holds one row per step, with the state the policy was fed at that step
(``state_in_0..k``) and the state it returned (``state_out_0..k``). A sequence is a run of at
most ``max_seq_len`` consecutive steps of one trajectory; it starts with the ``state_in`` of its
first row. Sequences are cut at every step whose episode time ``t`` is a multiple of
``max_seq_len``, and wherever the rows stop being consecutive steps of one trajectory: so the
cuts of a batch and of any reordering of its whole sequences are the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl.errors import ConfigError
from plugrl.sample_batch import SampleBatch

SEQ_LENS = "seq_lens"
"""The length of each sequence of a padded batch (``[num_sequences]``, int32)."""
SEQ_MASK = "seq_mask"
"""Which rows of a padded batch are steps, not padding (``[num_sequences * T]``, bool)."""


def state_in_key(i: int) -> str:
    return f"state_in_{i}"


def state_out_key(i: int) -> str:
    return f"state_out_{i}"


def state_keys(batch: Any, prefix: str = "state_in_") -> list[str]:
    """The ``state_in_*`` (or ``state_out_*``) columns of ``batch``, in order."""
    keys = []
    while f"{prefix}{len(keys)}" in batch:
        keys.append(f"{prefix}{len(keys)}")
    return keys


def is_recurrent_batch(batch: Any) -> bool:
    """Whether ``batch`` holds a recurrent policy's steps (it has ``state_in_0``)."""
    return state_in_key(0) in batch


def next_state(batch: SampleBatch) -> list[np.ndarray]:
    """The state after a trajectory's last step (its last ``state_out_*``): what a bootstrap
    value of the next observation needs."""
    return [batch[key][-1] for key in state_keys(batch, "state_out_")]


def check_max_seq_len(value: Any) -> int:
    """``model.max_seq_len`` as an int, or a ConfigError saying what it must be."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(
            f"model max_seq_len must be an integer >= 1 (the longest sequence a recurrent "
            f"model is trained on), got {value!r}; 20 is a good start."
        )
    return int(value)


def sequence_starts(batch: SampleBatch, max_seq_len: int) -> np.ndarray:
    """The row index where each sequence of ``batch`` starts (see the module docstring)."""
    count = batch.count
    if count == 0:
        return np.zeros(0, np.int64)
    if SampleBatch.T not in batch:
        raise ValueError(
            "A recurrent policy learns from batches with a 't' column (each step's time in its "
            "episode), as the rollout workers sample them; this batch has none."
        )
    t = np.asarray(batch[SampleBatch.T])
    new = np.ones(count, dtype=bool)
    cut = (t[1:] != t[:-1] + 1) | (t[1:] % max_seq_len == 0)
    for key in (SampleBatch.EPS_ID, SampleBatch.UNROLL_ID):
        if key in batch:
            cut |= batch[key][1:] != batch[key][:-1]
    new[1:] = cut
    return np.flatnonzero(new)


def sequence_minibatch_rows(
    batch: SampleBatch, size: int, max_seq_len: int, rng: np.random.Generator | None = None
) -> list[np.ndarray]:
    """The rows of minibatches of whole sequences in a random order, each of at least ``size``
    rows (or the whole batch, if smaller); the sequences left over at the end are dropped."""
    starts = sequence_starts(batch, max_seq_len)
    ends = np.append(starts[1:], batch.count)
    order = (rng or np.random.default_rng()).permutation(len(starts))
    size = min(size, batch.count)
    minibatches: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    taken = 0
    for i in order:
        rows.append(np.arange(starts[i], ends[i]))
        taken += ends[i] - starts[i]
        if taken >= size:
            minibatches.append(np.concatenate(rows))
            rows, taken = [], 0
    return minibatches


def pad_into_sequences(batch: SampleBatch, max_seq_len: int) -> dict[str, np.ndarray]:
    """``batch`` as a recurrent loss reads it: every column padded with zeros into
    ``[num_sequences * T, ...]`` (``T`` the longest sequence's length; sequence ``i``'s steps
    at rows ``i * T`` to ``i * T + seq_lens[i] - 1``), ``state_in_*`` as ``[num_sequences,
    ...]`` (each sequence's first state), ``seq_lens`` and ``seq_mask``. ``state_out_*`` and
    object columns (infos) are left out."""
    starts = sequence_starts(batch, max_seq_len)
    lens = np.diff(np.append(starts, batch.count))
    steps = int(lens.max()) if len(lens) else 0
    offsets = np.arange(batch.count) - np.repeat(starts, lens)
    positions = np.repeat(np.arange(len(starts)) * steps, lens) + offsets
    padded: dict[str, np.ndarray] = {}
    for key, column in batch.items():
        if key.startswith("state_out_") or column.dtype == object:
            continue
        if key.startswith("state_in_"):
            padded[key] = column[starts]
            continue
        out = np.zeros((len(starts) * steps, *column.shape[1:]), dtype=column.dtype)
        out[positions] = column
        padded[key] = out
    mask = np.zeros(len(starts) * steps, dtype=bool)
    mask[positions] = True
    padded[SEQ_MASK] = mask
    padded[SEQ_LENS] = lens.astype(np.int32)
    return padded
