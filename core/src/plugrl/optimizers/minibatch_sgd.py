"""MinibatchSGDOptimizer: epochs of shuffled minibatch SGD on each synchronously sampled batch,
with chosen fields (e.g. advantages) standardised. PPO's optimizer."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from plugrl.optimizers.sync_samples import SyncSamplesOptimizer, learner_stats
from plugrl.sample_batch import SampleBatch
from plugrl.sampling.worker_set import WorkerSet


def standardized(batch: SampleBatch, fields: tuple[str, ...]) -> SampleBatch:
    """Rescale each of ``fields`` to zero mean and unit std (in place; returns the batch)."""
    for field in fields:
        values = batch[field]
        batch[field] = ((values - values.mean()) / max(1e-4, values.std())).astype(np.float32)
    return batch


class MinibatchSGDOptimizer(SyncSamplesOptimizer):
    """``num_sgd_iter`` epochs of shuffled minibatches of ``sgd_minibatch_size`` rows."""

    def __init__(
        self,
        workers: WorkerSet,
        num_sgd_iter: int = 10,
        train_batch_size: int = 4000,
        sgd_minibatch_size: int = 128,
        standardize_fields: tuple[str, ...] | frozenset = (),
        shuffle_sequences: bool = True,
        seed: int | None = None,
    ):
        super().__init__(
            workers, num_sgd_iter, train_batch_size, sgd_minibatch_size, standardize_fields
        )
        self.shuffle_sequences = shuffle_sequences
        self.rng = np.random.default_rng(seed)

    def learn(self, batch: SampleBatch) -> dict[str, Any]:
        local = self.workers.local_worker()
        batch = standardized(batch, self.standardize_fields)
        size = min(self.sgd_minibatch_size or batch.count, batch.count)
        per_policy: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for _ in range(self.num_sgd_iter):
            if self.shuffle_sequences:
                minibatches = batch.minibatches(size, self.rng)
            else:
                minibatches = batch.timeslices(size)
            for minibatch in minibatches:
                for pid, stats in local.learn_on_batch(minibatch).items():
                    for key, value in learner_stats(stats).items():
                        per_policy[pid][key].append(value)
        return {
            pid: {key: float(np.mean(values)) for key, values in stats.items()}
            for pid, stats in per_policy.items()
        }
