"""Observation filters: NoFilter, and MeanStdFilter with running statistics synced across workers.

A worker's MeanStdFilter keeps its total statistics plus a ``buffer`` of what it saw since the
last sync. The driver merges every worker's buffer into its own filter and sends the result
back (:meth:`MeanStdFilter.sync`), so all workers normalise the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl.errors import ConfigError


class NoFilter:
    """Passes observations through."""

    def __call__(self, x: np.ndarray, update: bool = True) -> np.ndarray:
        return x

    def clear_buffer(self) -> None: ...

    def apply_changes(self, other: NoFilter, with_buffer: bool = False) -> None: ...

    def sync(self, other: NoFilter) -> None: ...

    def copy(self) -> NoFilter:
        return self

    def get_state(self) -> dict[str, Any]:
        return {"type": "NoFilter"}

    def set_state(self, state: dict[str, Any]) -> None: ...


class RunningStats:
    """Count, mean and sum of squared deviations, merged with Chan et al.'s parallel formula."""

    def __init__(self, shape: tuple[int, ...]):
        self.n = 0
        self.mean = np.zeros(shape, dtype=np.float64)
        self.m2 = np.zeros(shape, dtype=np.float64)

    def push_batch(self, x: np.ndarray) -> None:
        other = RunningStats(self.mean.shape)
        other.n = len(x)
        other.mean = x.mean(axis=0)
        other.m2 = ((x - other.mean) ** 2).sum(axis=0)
        self.update(other)

    def update(self, other: RunningStats) -> None:
        if other.n == 0:
            return
        n = self.n + other.n
        delta = other.mean - self.mean
        self.mean = self.mean + delta * other.n / n
        self.m2 = self.m2 + other.m2 + delta**2 * self.n * other.n / n
        self.n = n

    @property
    def std(self) -> np.ndarray:
        var = self.m2 / (self.n - 1) if self.n > 1 else np.ones_like(self.m2)
        return np.sqrt(var)

    def copy(self) -> RunningStats:
        out = RunningStats(self.mean.shape)
        out.n, out.mean, out.m2 = self.n, self.mean.copy(), self.m2.copy()
        return out


class MeanStdFilter:
    """Normalises observations to zero mean and unit std, clipped to ``[-clip, clip]``."""

    def __init__(self, shape: tuple[int, ...], clip: float = 10.0):
        self.shape = tuple(shape)
        self.clip = clip
        self.rs = RunningStats(self.shape)
        self.buffer = RunningStats(self.shape)

    def __call__(self, x: np.ndarray, update: bool = True) -> np.ndarray:
        """Normalise ``x`` (one observation or a batch); ``update`` adds it to the statistics."""
        x = np.asarray(x, dtype=np.float64)
        if update:
            batch = x.reshape(-1, *self.shape)
            self.rs.push_batch(batch)
            self.buffer.push_batch(batch)
        out = (x - self.rs.mean) / (self.rs.std + 1e-8)
        return np.clip(out, -self.clip, self.clip).astype(np.float32)

    def clear_buffer(self) -> None:
        self.buffer = RunningStats(self.shape)

    def apply_changes(self, other: MeanStdFilter, with_buffer: bool = False) -> None:
        """Add what ``other`` saw since its last sync (its buffer) to these statistics."""
        self.rs.update(other.buffer)
        if with_buffer:
            self.buffer.update(other.buffer)

    def sync(self, other: MeanStdFilter) -> None:
        """Take ``other``'s total statistics (the driver's merged view)."""
        self.rs = other.rs.copy()

    def copy(self) -> MeanStdFilter:
        out = MeanStdFilter(self.shape, self.clip)
        out.rs, out.buffer = self.rs.copy(), self.buffer.copy()
        return out

    def get_state(self) -> dict[str, Any]:
        return {
            "type": "MeanStdFilter",
            "clip": self.clip,
            "n": self.rs.n,
            "mean": self.rs.mean,
            "m2": self.rs.m2,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.rs.n = int(state["n"])
        self.rs.mean = np.asarray(state["mean"], dtype=np.float64)
        self.rs.m2 = np.asarray(state["m2"], dtype=np.float64)


def make_filter(name: str, shape: tuple[int, ...]) -> NoFilter | MeanStdFilter:
    """The filter named by ``config["observation_filter"]``."""
    if name == "NoFilter":
        return NoFilter()
    if name == "MeanStdFilter":
        return MeanStdFilter(shape)
    raise ConfigError(f"Unknown observation_filter {name!r}: use 'NoFilter' or 'MeanStdFilter'.")
