"""WorkerContext: which rollout worker a policy or env lives on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkerContext:
    """Handed to every policy a worker builds (instead of keys injected into its config).

    Args:
        worker_index: 0 for the local worker (the driver), 1..N for remote ones.
        num_workers: how many remote workers the set has.
        in_evaluation: True on evaluation workers.
    """

    worker_index: int = 0
    num_workers: int = 0
    in_evaluation: bool = False
