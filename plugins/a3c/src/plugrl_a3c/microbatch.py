"""MicrobatchOptimizer: one update per train batch, its gradient accumulated over microbatches
(A2C's ``microbatch_size``): only one microbatch's graph is alive at a time."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl import SampleBatch, SyncSamplesOptimizer, WorkerSet
from plugrl.errors import ConfigError
from plugrl.optimizers.sync_samples import for_policy
from plugrl.policy.policy import learner_stats, mean_stats
from plugrl.sample_batch import MultiAgentBatch


class MicrobatchOptimizer(SyncSamplesOptimizer):
    """Sample ``train_batch_size`` steps, compute gradients on slices of ``microbatch_size``
    steps, and apply their average weighted by slice length: the same update as one gradient
    over the whole batch when the loss is a mean (and no per-slice gradient clipping bites).
    """

    def __init__(self, workers: WorkerSet, train_batch_size: int = 200, microbatch_size: int = 20):
        if microbatch_size > train_batch_size:
            raise ConfigError(
                f"microbatch_size ({microbatch_size}) must be <= train_batch_size "
                f"({train_batch_size})."
            )
        super().__init__(workers, train_batch_size=train_batch_size)
        self.microbatch_size = microbatch_size

    def learn(self, batch: SampleBatch | MultiAgentBatch) -> dict[str, Any]:
        local = self.workers.local_worker()
        out = {}
        for pid, policy_batch in local.trainable_batches(batch).items():
            total: list[np.ndarray] = []
            stats = []
            for micro in policy_batch.timeslices(self.microbatch_size):
                grads, info = local.compute_gradients(for_policy(batch, pid, micro))
                grads = grads[pid] if isinstance(grads, dict) else grads
                weighted = [micro.count / policy_batch.count * np.asarray(g) for g in grads]
                total = [a + g for a, g in zip(total, weighted, strict=True)] if total else weighted
                stats.append(learner_stats(info[pid]))
            local.apply_gradients({pid: total} if isinstance(batch, MultiAgentBatch) else total)
            out[pid] = mean_stats(stats)
        return out
