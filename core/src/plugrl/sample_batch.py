"""SampleBatch: the one data carrier between workers, policies, optimizers and callbacks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

DEFAULT_POLICY_ID = "default_policy"

Rows = np.ndarray | slice
"""Some rows of a batch: an array of their indices, or a slice."""


class SampleBatch(dict):
    """A dict of equal-length numpy columns, one row per env step."""

    OBS = CUR_OBS = "obs"
    NEXT_OBS = "new_obs"
    ACTIONS = "actions"
    REWARDS = "rewards"
    PREV_ACTIONS = "prev_actions"
    PREV_REWARDS = "prev_rewards"
    TERMINATEDS = "terminateds"
    TRUNCATEDS = "truncateds"
    DONES = "dones"
    INFOS = "infos"
    EPS_ID = "eps_id"
    UNROLL_ID = "unroll_id"
    AGENT_INDEX = "agent_index"
    T = "t"
    ACTION_DIST_INPUTS = "action_dist_inputs"
    ACTION_PROB = "action_prob"
    ACTION_LOGP = "action_logp"
    VF_PREDS = "vf_preds"
    VALUES_BOOTSTRAPPED = "values_bootstrapped"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for key, value in self.items():
            if not isinstance(value, np.ndarray):
                super().__setitem__(key, _as_column(value))
        lengths = {len(v) for v in self.values()}
        if len(lengths) > 1:
            sizes = {k: len(v) for k, v in self.items()}
            raise ValueError(f"SampleBatch columns must have equal lengths, got {sizes}")

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value if isinstance(value, np.ndarray) else _as_column(value))

    @property
    def count(self) -> int:
        """Number of rows."""
        return len(next(iter(self.values()))) if self else 0

    def __len__(self) -> int:  # type: ignore[override]
        return self.count

    def __bool__(self) -> bool:
        return dict.__len__(self) > 0

    @staticmethod
    def concat_samples(samples: Sequence[Any]) -> Any:
        """Concatenate batches row-wise; every batch must have the same columns. Batches of
        a multi-agent worker (:class:`MultiAgentBatch`) concatenate policy by policy."""
        if any(isinstance(s, MultiAgentBatch) for s in samples):
            return MultiAgentBatch.concat_samples(samples)
        samples = [s for s in samples if s.count]
        if not samples:
            return SampleBatch()
        keys = list(samples[0].keys())
        for s in samples[1:]:
            if set(s.keys()) != set(keys):
                raise ValueError(
                    f"Cannot concat SampleBatches with different columns: "
                    f"{sorted(keys)} vs {sorted(s.keys())}"
                )
        return SampleBatch({k: np.concatenate([s[k] for s in samples]) for k in keys})

    def concat(self, other: SampleBatch) -> SampleBatch:
        return SampleBatch.concat_samples([self, other])

    def copy(self) -> SampleBatch:  # type: ignore[override]
        return SampleBatch({k: v.copy() for k, v in self.items()})

    def rows(self) -> Iterator[dict[str, Any]]:
        for i in range(self.count):
            yield {k: v[i] for k, v in self.items()}

    def columns(self, keys: Sequence[str]) -> list[np.ndarray]:
        return [self[k] for k in keys]

    def slice(self, start: int, end: int) -> SampleBatch:
        return SampleBatch({k: v[start:end] for k, v in self.items()})

    def take(self, indices: Rows) -> SampleBatch:
        """Rows at ``indices``: an index array (a copy) or a slice (views)."""
        return SampleBatch({k: v[indices] for k, v in self.items()})

    def shuffle(self, rng: np.random.Generator | None = None) -> SampleBatch:
        """Shuffle rows in place and return self."""
        order = (rng or np.random.default_rng()).permutation(self.count)
        for k, v in self.items():
            dict.__setitem__(self, k, v[order])
        return self

    def split_by_episode(self) -> list[SampleBatch]:
        """One batch per contiguous run of equal ``eps_id``."""
        ids = self[self.EPS_ID]
        bounds = np.flatnonzero(ids[1:] != ids[:-1]) + 1
        edges = [0, *bounds.tolist(), self.count]
        return [self.slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]

    def timeslices(self, k: int) -> list[SampleBatch]:
        return [self.slice(i, i + k) for i in range(0, self.count, k)]

    def minibatch_rows(self, size: int, rng: np.random.Generator | None = None) -> list[np.ndarray]:
        """The rows of shuffled minibatches of ``size`` rows (the last, smaller one is dropped
        if any)."""
        order = (rng or np.random.default_rng()).permutation(self.count)
        return [order[start : start + size] for start in range(0, self.count - size + 1, size)]

    def size_bytes(self) -> int:
        return sum(v.nbytes for v in self.values())

    def env_steps(self) -> int:
        return self.count

    def agent_steps(self) -> int:
        return self.count

    def as_multi_agent(self) -> MultiAgentBatch:
        """This batch as the batch of the default policy."""
        return MultiAgentBatch({DEFAULT_POLICY_ID: self}, self.count)

    def __repr__(self) -> str:
        cols = ", ".join(f"{k}: {v.dtype}{list(v.shape)}" for k, v in self.items())
        return f"SampleBatch({self.count} rows: {cols})"


class MultiAgentBatch:
    """The batches of several policies, collected over ``env_steps`` env steps.

    ``policy_batches`` maps a policy id to the SampleBatch of the agents it acted for; its rows
    are agent steps, so their total (:meth:`agent_steps`) may differ from ``count`` (env steps).
    """

    def __init__(self, policy_batches: Mapping[str, SampleBatch], env_steps: int):
        self.policy_batches = dict(policy_batches)
        self.count = int(env_steps)

    def env_steps(self) -> int:
        return self.count

    def agent_steps(self) -> int:
        return sum(b.count for b in self.policy_batches.values())

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return bool(self.policy_batches)

    @staticmethod
    def concat_samples(samples: Sequence[Any]) -> MultiAgentBatch:
        """One batch of every policy's rows in ``samples`` (SampleBatches count as the
        default policy's)."""
        by_policy: dict[str, list[SampleBatch]] = {}
        env_steps = 0
        for sample in samples:
            sample = sample.as_multi_agent() if isinstance(sample, SampleBatch) else sample
            env_steps += sample.count
            for pid, batch in sample.policy_batches.items():
                by_policy.setdefault(pid, []).append(batch)
        merged = {pid: SampleBatch.concat_samples(b) for pid, b in by_policy.items()}
        return MultiAgentBatch(merged, env_steps)

    def as_multi_agent(self) -> MultiAgentBatch:
        return self

    def copy(self) -> MultiAgentBatch:
        return MultiAgentBatch({k: b.copy() for k, b in self.policy_batches.items()}, self.count)

    def size_bytes(self) -> int:
        return sum(b.size_bytes() for b in self.policy_batches.values())

    def __repr__(self) -> str:
        parts = ", ".join(f"{pid}: {b.count} rows" for pid, b in self.policy_batches.items())
        return f"MultiAgentBatch({self.count} env steps; {parts})"


def steps_of(batch: SampleBatch | MultiAgentBatch, count_steps_by: str = "env_steps") -> int:
    """How many steps ``batch`` holds, counted in env steps or agent steps."""
    return batch.agent_steps() if count_steps_by == "agent_steps" else batch.count


def _as_column(value: Any) -> np.ndarray:
    if isinstance(value, list) and value and isinstance(value[0], Mapping):
        column = np.empty(len(value), dtype=object)
        column[:] = value
        return column
    return np.asarray(value)
