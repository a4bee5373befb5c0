"""Replay buffers: a uniform circular buffer and a proportional prioritized one (Schaul et al.
2016), both storing columns in preallocated numpy arrays and adding and sampling whole batches
at once."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl.errors import ConfigError
from plugrl.sample_batch import SampleBatch

BATCH_INDEXES = "batch_indexes"
"""Column of a replayed batch: the rows' buffer slots (to update their priorities)."""
WEIGHTS = "weights"
"""Column of a replayed batch: importance-sampling weights (all 1 for uniform replay)."""


class ReplayBuffer:
    """Keeps the last ``capacity`` rows of every numeric column it is given.

    The columns and their shapes are fixed by the first batch added; object columns (infos)
    are not stored.
    """

    def __init__(self, capacity: int, seed: int | None = None):
        if capacity < 1:
            raise ConfigError(f"buffer_size must be >= 1, got {capacity}.")
        self.capacity = int(capacity)
        self.rng = np.random.default_rng(seed)
        self._storage: dict[str, np.ndarray] = {}
        self._next = 0
        self._size = 0
        self.num_added = 0

    def __len__(self) -> int:
        return self._size

    def add(self, batch: SampleBatch) -> np.ndarray:
        """Store ``batch``'s rows, overwriting the oldest; returns the slots written."""
        n = batch.count
        if not self._storage:
            self._allocate(batch)
        missing = set(self._storage) - set(batch)
        if missing:
            raise ValueError(f"Batch lacks replayed columns {sorted(missing)}.")
        keep = min(n, self.capacity)
        slots = (self._next + np.arange(keep)) % self.capacity
        for name, column in self._storage.items():
            column[slots] = np.asarray(batch[name])[n - keep :]
        self._next = int((self._next + keep) % self.capacity)
        self._size = min(self._size + keep, self.capacity)
        self.num_added += n
        return slots

    def _allocate(self, batch: SampleBatch) -> None:
        for name in batch:
            values = np.asarray(batch[name])
            if values.dtype != object:
                dtype = np.float32 if values.dtype == np.float64 else values.dtype
                self._storage[name] = np.zeros((self.capacity, *values.shape[1:]), dtype)

    def sample(self, num_items: int, **kwargs: Any) -> SampleBatch:
        """``num_items`` rows drawn uniformly with replacement (``weights`` all 1)."""
        slots = self.rng.integers(self._size, size=num_items)
        batch = self._rows(slots)
        batch[WEIGHTS] = np.ones(num_items, np.float32)
        return batch

    def _rows(self, slots: np.ndarray) -> SampleBatch:
        batch = SampleBatch({name: column[slots] for name, column in self._storage.items()})
        batch[BATCH_INDEXES] = slots
        return batch

    def update_priorities(self, slots: np.ndarray, priorities: np.ndarray) -> None:
        """Uniform replay has no priorities."""

    def get_state(self) -> dict[str, Any]:
        """The stored rows, position and sampling generator (for checkpoints)."""
        return {
            "storage": {name: column[: self._size] for name, column in self._storage.items()},
            "next": self._next,
            "num_added": self.num_added,
            "rng": self.rng.bit_generator.state,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self._storage = {}
        stored = state["storage"]
        if stored:
            self._allocate(SampleBatch({k: v[:1] for k, v in stored.items()}))
            for name, rows in stored.items():
                self._storage[name][: len(rows)] = rows
            self._size = len(next(iter(stored.values())))
        self._next = int(state["next"])
        self.num_added = int(state["num_added"])
        self.rng.bit_generator.state = state["rng"]


class PrioritizedReplayBuffer(ReplayBuffer):
    """Samples row ``i`` with probability ``p_i ** alpha / sum_k p_k ** alpha`` and weights it
    by ``(N * P(i)) ** -beta``, normalised by the largest possible weight. New rows get the
    highest priority seen so far; :meth:`update_priorities` sets ``p_i = |td_error| + eps``.
    """

    def __init__(self, capacity: int, alpha: float = 0.6, eps: float = 1e-6, **kwargs: Any):
        super().__init__(capacity, **kwargs)
        if alpha < 0:
            raise ConfigError(f"prioritized_replay_alpha must be >= 0, got {alpha}.")
        self.alpha = alpha
        self.eps = eps
        self.tree = PriorityTree(self.capacity)
        self.max_priority = 1.0

    def add(self, batch: SampleBatch) -> np.ndarray:
        slots = super().add(batch)
        self.tree.set(slots, np.full(len(slots), self.max_priority**self.alpha))
        return slots

    def sample(self, num_items: int, beta: float = 0.4, **kwargs: Any) -> SampleBatch:
        """``num_items`` rows, one from each of ``num_items`` equal slices of the priority mass
        (stratified), with ``weights``."""
        total = self.tree.total
        targets = (np.arange(num_items) + self.rng.random(num_items)) * (total / num_items)
        slots = np.minimum(self.tree.find_prefix_sum(targets), self._size - 1)
        probabilities = self.tree.values(slots) / total
        smallest = self.tree.minimum / total
        weights = (probabilities / smallest) ** -beta  # (N P_i)^-b / (N P_min)^-b
        batch = self._rows(slots)
        batch[WEIGHTS] = weights.astype(np.float32)
        return batch

    def update_priorities(self, slots: np.ndarray, priorities: np.ndarray) -> None:
        priorities = np.abs(np.asarray(priorities, np.float64)) + self.eps
        self.tree.set(np.asarray(slots), priorities**self.alpha)
        self.max_priority = max(self.max_priority, float(priorities.max()))

    def get_state(self) -> dict[str, Any]:
        return {
            **super().get_state(),
            "priorities": self.tree.values(np.arange(self._size)),
            "max_priority": self.max_priority,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.tree = PriorityTree(self.capacity)
        self.tree.set(np.arange(self._size), np.asarray(state["priorities"]))
        self.max_priority = float(state["max_priority"])


class PriorityTree:
    """A binary tree over ``capacity`` leaves keeping the sum and the minimum of every subtree,
    updated and searched for many leaves at once (one numpy operation per tree level)."""

    def __init__(self, capacity: int):
        self.leaves = 1 << max(0, int(capacity - 1).bit_length())
        self.depth = self.leaves.bit_length() - 1
        self._sum = np.zeros(2 * self.leaves)
        self._min = np.full(2 * self.leaves, np.inf)

    @property
    def total(self) -> float:
        return float(self._sum[1])

    @property
    def minimum(self) -> float:
        return float(self._min[1])

    def values(self, slots: np.ndarray) -> np.ndarray:
        return self._sum[slots + self.leaves]

    def set(self, slots: np.ndarray, values: np.ndarray) -> None:
        nodes = slots + self.leaves
        self._sum[nodes] = values
        self._min[nodes] = values
        for _ in range(self.depth):
            nodes = nodes // 2  # repeated parents get the same value twice: harmless
            left, right = 2 * nodes, 2 * nodes + 1
            self._sum[nodes] = self._sum[left] + self._sum[right]
            self._min[nodes] = np.minimum(self._min[left], self._min[right])

    def find_prefix_sum(self, targets: np.ndarray) -> np.ndarray:
        """For each target mass, the leaf where the running sum of leaves first exceeds it."""
        nodes = np.ones(len(targets), dtype=np.int64)
        remaining = np.asarray(targets, np.float64).copy()
        for _ in range(self.depth):
            left = 2 * nodes
            left_mass = self._sum[left]
            go_right = remaining > left_mass
            remaining -= np.where(go_right, left_mass, 0.0)
            nodes = left + go_right
        return nodes - self.leaves
