"""MinibatchSGDOptimizer: PPO's optimizer, epochs of shuffled minibatch SGD on each
synchronously sampled batch."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from plugrl.optimizers.sync_samples import SyncSamplesOptimizer
from plugrl.policy.sequences import is_recurrent_batch, sequence_minibatches
from plugrl.sample_batch import SampleBatch
from plugrl.sampling.worker_set import WorkerSet


class MinibatchSGDOptimizer(SyncSamplesOptimizer):
    """``num_sgd_iter`` epochs of minibatches of ``sgd_minibatch_size`` rows, shuffled anew
    each epoch (``shuffle_sequences``) with a generator seeded by ``seed``; a recurrent
    policy's rows are shuffled as whole sequences (see :mod:`plugrl.policy.sequences`)."""

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

    def save(self) -> dict[str, Any]:
        return {**super().save(), "shuffle_rng": self.rng.bit_generator.state}

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        if "shuffle_rng" in state:
            self.rng.bit_generator.state = state["shuffle_rng"]

    def minibatches(self, batch: SampleBatch) -> Iterable[SampleBatch]:
        if not self.shuffle_sequences:
            return super().minibatches(batch)
        size = min(self.sgd_minibatch_size or batch.count, batch.count)
        if is_recurrent_batch(batch):  # shuffled as whole sequences
            return sequence_minibatches(batch, size, self.config["model"]["max_seq_len"], self.rng)
        return batch.minibatches(size, self.rng)
