"""SyncReplayOptimizer: sample from the workers, store in a replay buffer, learn on replayed
batches, update their priorities, send the new weights back."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from plugrl.optimizers import PolicyOptimizer, collect_samples
from plugrl.optimizers.sync_samples import learner_stats
from plugrl.sample_batch import DEFAULT_POLICY_ID
from plugrl.schedules import PiecewiseSchedule
from plugrl_dqn.replay_buffer import BATCH_INDEXES, PrioritizedReplayBuffer, ReplayBuffer

logger = logging.getLogger(__name__)


class SyncReplayOptimizer(PolicyOptimizer):
    """One :meth:`step`: one round of sampling (every worker's ``sample()``), stored in the
    buffer; then, once the buffer holds ``learning_starts`` rows, replayed batches of
    ``train_batch_size`` rows learned on.

    How many: with ``training_intensity`` unset, one replayed batch per step; with it set,
    enough batches that rows trained / rows sampled approaches ``training_intensity``.

    Args:
        buffer_size: rows the buffer keeps.
        prioritized_replay: proportional prioritized replay instead of uniform.
        prioritized_replay_alpha, prioritized_replay_eps: priority exponent and offset.
        prioritized_replay_beta, final_prioritized_replay_beta,
        prioritized_replay_beta_annealing_timesteps: the importance-weight exponent, annealed
            linearly over sampled steps.
        before_learn_on_batch: ``fn(batch, policies, train_batch_size) -> batch`` run on each
            replayed batch before learning.
        store_buffer_in_checkpoints: include the buffer's rows in :meth:`save`.
        seed: seeds the buffer's sampling.
    """

    def __init__(
        self,
        workers: Any,
        *,
        learning_starts: int = 1000,
        buffer_size: int = 10_000,
        prioritized_replay: bool = False,
        prioritized_replay_alpha: float = 0.6,
        prioritized_replay_beta: float = 0.4,
        final_prioritized_replay_beta: float = 0.4,
        prioritized_replay_beta_annealing_timesteps: int = 20_000,
        prioritized_replay_eps: float = 1e-6,
        train_batch_size: int = 32,
        training_intensity: float | None = None,
        before_learn_on_batch: Callable | None = None,
        store_buffer_in_checkpoints: bool = False,
        seed: int | None = None,
    ):
        super().__init__(workers)
        self.learning_starts = learning_starts
        self.train_batch_size = train_batch_size
        self.training_intensity = training_intensity
        self.before_learn_on_batch = before_learn_on_batch
        self.store_buffer_in_checkpoints = store_buffer_in_checkpoints
        self._warned = False  # about a loss that returns no TD errors
        if prioritized_replay:
            alpha, eps = prioritized_replay_alpha, prioritized_replay_eps
            self._new_buffer = lambda: PrioritizedReplayBuffer(buffer_size, alpha, eps, seed=seed)
        else:
            self._new_buffer = lambda: ReplayBuffer(buffer_size, seed=seed)
        self.buffer: ReplayBuffer = self._new_buffer()
        self.beta_schedule = PiecewiseSchedule(
            [
                [0, prioritized_replay_beta],
                [
                    max(1, prioritized_replay_beta_annealing_timesteps),
                    final_prioritized_replay_beta,
                ],
            ],
            "prioritized_replay_beta",
        )
        self._replays_owed = 0.0

    def _step(self) -> dict[str, Any]:
        workers = self.workers
        local = workers.local_worker()
        if workers.remote_workers():
            with self.timers["sync_weights"]:
                workers.sync_weights(local.get_global_vars())
        with self.timers["sample"]:
            batch = collect_samples(workers, 1)
        with self.timers["replay_add"]:
            self.buffer.add(batch)
        self.num_steps_sampled += batch.count
        local.set_global_vars({"timestep": self.num_steps_sampled})
        if len(self.buffer) < min(self.learning_starts, self.buffer.capacity):
            return self.learner_stats
        for _ in range(self._replays_due(batch.count)):
            self._replay_and_learn()
        return self.learner_stats

    def _replays_due(self, sampled: int) -> int:
        if self.training_intensity is None:
            return 1
        self._replays_owed += sampled * self.training_intensity / self.train_batch_size
        due = int(self._replays_owed)
        self._replays_owed -= due
        return due

    def _replay_and_learn(self) -> None:
        local = self.workers.local_worker()
        with self.timers["replay"]:
            beta = self.beta_schedule(self.num_steps_sampled)
            batch = self.buffer.sample(self.train_batch_size, beta=beta)
            if self.before_learn_on_batch:
                batch = self.before_learn_on_batch(batch, local.policy_map, self.train_batch_size)
        with self.timers["learn"]:
            fetches = local.learn_on_batch(batch)
        with self.timers["update_priorities"]:
            td_error = fetches.get(DEFAULT_POLICY_ID, {}).get("td_error")
            if td_error is not None:
                self.buffer.update_priorities(batch[BATCH_INDEXES], td_error)
            elif isinstance(self.buffer, PrioritizedReplayBuffer) and not self._warned:
                self._warned = True
                logger.warning(
                    "Prioritized replay needs each row's 'td_error' among the loss's fetches "
                    "(LossOutput(fetches={'td_error': ...})); the loss returns none, so rows "
                    "keep the priority they were stored with."
                )
        self.num_steps_trained += batch.count
        self.learner_stats = {pid: learner_stats(stats) for pid, stats in fetches.items()}

    def stats(self) -> dict[str, Any]:
        return {**super().stats(), "replay_buffer_size": len(self.buffer)}

    def save(self) -> dict[str, Any]:
        state = {**super().save(), "replays_owed": self._replays_owed}
        if self.store_buffer_in_checkpoints:
            state["buffer"] = self.buffer.get_state()
        return state

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        self._replays_owed = float(state.get("replays_owed", 0.0))
        self.buffer = self._new_buffer()  # the checkpoint's rows, or none (refilled)
        if "buffer" in state:
            self.buffer.set_state(state["buffer"])
