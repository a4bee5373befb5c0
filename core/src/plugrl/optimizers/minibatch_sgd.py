"""MinibatchSGDOptimizer: PPO's optimizer, epochs of shuffled minibatch SGD on each
synchronously sampled batch."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl.optimizers.sync_samples import SyncSamplesOptimizer
from plugrl.policy.sequences import is_recurrent_batch, sequence_minibatch_rows
from plugrl.sample_batch import Rows, SampleBatch
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

    def minibatch_rows(self, batch: SampleBatch) -> list[Rows]:
        if not self.shuffle_sequences:
            return super().minibatch_rows(batch)
        size = min(self.sgd_minibatch_size or batch.count, batch.count)
        if is_recurrent_batch(batch):  # shuffled as whole sequences
            max_seq_len = self.config["model"]["max_seq_len"]
            return sequence_minibatch_rows(batch, size, max_seq_len, self.rng)
        return batch.minibatch_rows(size, self.rng)
