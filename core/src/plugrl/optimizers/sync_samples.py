"""SyncSamplesOptimizer: sample from every worker in parallel, learn on the local policy,
broadcast the new weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl.config import warn_if_train_batch_uneven
from plugrl.optimizers.policy_optimizer import PolicyOptimizer
from plugrl.sample_batch import MultiAgentBatch, Rows, SampleBatch
from plugrl.sampling.worker_set import WorkerSet


def collect_samples(workers: WorkerSet, min_steps: int) -> SampleBatch:
    """Sample until at least ``min_steps`` rows: from the remote workers in parallel when
    there are any, else from the local worker."""
    batches: list[SampleBatch | MultiAgentBatch] = []
    local = workers.local_worker()
    count = 0
    while count < min_steps:
        remotes = workers.remote_workers()  # a failed worker may have been dropped or replaced
        if remotes:
            new = workers.get([w.sample.remote() for w in remotes], remotes)
        else:
            new = [local.sample()]
        batches.extend(new)
        count += sum(local.count_steps(b) for b in new)
    return SampleBatch.concat_samples(batches)


def for_policy(
    samples: SampleBatch | MultiAgentBatch, policy_id: str, part: SampleBatch
) -> SampleBatch | MultiAgentBatch:
    """``part`` of policy ``policy_id``'s batch in ``samples``, in the form ``samples`` has
    (what ``RolloutWorker.learn_on_batch`` and ``compute_gradients`` take)."""
    if isinstance(samples, SampleBatch):
        return part
    return MultiAgentBatch({policy_id: part}, part.count)


def standardized(batch: SampleBatch, fields: tuple[str, ...]) -> SampleBatch:
    """Rescale each of ``fields`` to zero mean and unit std (in place; returns the batch)."""
    for field in fields:
        values = batch[field]
        batch[field] = ((values - values.mean()) / max(1e-4, values.std())).astype(np.float32)
    return batch


class SyncSamplesOptimizer(PolicyOptimizer):
    """Synchronous sampling of ``train_batch_size`` steps, ``standardize_fields`` rescaled,
    then ``num_sgd_iter`` passes of ``learn_on_batch`` over the whole batch, or over slices of
    ``sgd_minibatch_size`` rows when set. Learner stats are averaged over the updates."""

    def __init__(
        self,
        workers: WorkerSet,
        num_sgd_iter: int = 1,
        train_batch_size: int = 1,
        sgd_minibatch_size: int = 0,
        standardize_fields: tuple[str, ...] | frozenset = (),
    ):
        super().__init__(workers)
        warn_if_train_batch_uneven({**self.config, "train_batch_size": train_batch_size})
        self.num_sgd_iter = num_sgd_iter
        self.train_batch_size = train_batch_size
        self.sgd_minibatch_size = sgd_minibatch_size
        self.standardize_fields = tuple(standardize_fields)

    def _step(self) -> Any:
        workers = self.workers
        if workers.remote_workers():
            with self.timers["sync_weights"]:
                workers.sync_weights(workers.local_worker().get_global_vars())
        with self.timers["sample"]:
            batch = collect_samples(workers, self.train_batch_size)
        with self.timers["learn"]:
            fetches = self.learn(batch)
        steps = workers.local_worker().count_steps(batch)
        self.num_steps_sampled += steps
        self.num_steps_trained += steps * self.num_sgd_iter
        workers.local_worker().set_global_vars({"timestep": self.num_steps_sampled})
        self.learner_stats = fetches
        return fetches

    def learn(self, batch: SampleBatch | MultiAgentBatch) -> dict[str, Any]:
        """Learn on one collected batch, policy by policy; returns ``{policy_id: stats}``,
        the means over the last pass's updates (as RLlib's minibatch SGD reported them).
        Every pass's minibatches are drawn first, so the policy gets the whole batch and all
        its minibatches at once (see ``Policy.learn_on_minibatches``)."""
        local = self.workers.local_worker()
        out = {}
        for pid, policy_batch in local.trainable_batches(batch).items():
            policy_batch = standardized(policy_batch, self.standardize_fields)
            passes = [self.minibatch_rows(policy_batch) for _ in range(self.num_sgd_iter)]
            rows = [r for minibatches in passes for r in minibatches]
            out[pid] = local.learn_on_minibatches(
                pid, policy_batch, rows, stats_of_last=len(passes[-1])
            )
        return out

    def minibatch_rows(self, batch: SampleBatch) -> list[Rows]:
        """The minibatches of one pass: slices of ``sgd_minibatch_size`` rows, or the whole."""
        size = self.sgd_minibatch_size
        if not size or size >= batch.count:
            return [slice(None)]
        return [slice(start, start + size) for start in range(0, batch.count, size)]
