"""SyncReplayOptimizer: sample from the workers, store in a replay buffer, learn on replayed
batches, update their priorities, send the new weights back."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from plugrl.optimizers import PolicyOptimizer, collect_samples
from plugrl.policy.policy import learner_stats
from plugrl.sample_batch import DEFAULT_POLICY_ID, MultiAgentBatch, SampleBatch
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
        self.buffers: dict[str, ReplayBuffer] = {}  # one per policy that learns
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
            for pid, policy_batch in local.trainable_batches(batch).items():
                if pid not in self.buffers:
                    self.buffers[pid] = self._new_buffer()
                self.buffers[pid].add(policy_batch)
        steps = local.count_steps(batch)
        self.num_steps_sampled += steps
        local.set_global_vars({"timestep": self.num_steps_sampled})
        if not self._ready():
            return self.learner_stats
        for _ in range(self._replays_due(steps)):
            self._replay_and_learn(multi_agent=not isinstance(batch, SampleBatch))
        return self.learner_stats

    @property
    def buffer(self) -> ReplayBuffer:
        """The default policy's buffer (single-agent training)."""
        if DEFAULT_POLICY_ID not in self.buffers:
            self.buffers[DEFAULT_POLICY_ID] = self._new_buffer()
        return self.buffers[DEFAULT_POLICY_ID]

    def _ready(self) -> bool:
        """Whether every buffer holds ``learning_starts`` rows (or is full)."""
        return bool(self.buffers) and all(
            len(b) >= min(self.learning_starts, b.capacity) for b in self.buffers.values()
        )

    def _replays_due(self, sampled: int) -> int:
        if self.training_intensity is None:
            return 1
        self._replays_owed += sampled * self.training_intensity / self.train_batch_size
        due = int(self._replays_owed)
        self._replays_owed -= due
        return due

    def _replay_and_learn(self, multi_agent: bool) -> None:
        """One replayed batch per policy that learns, learned on together."""
        local = self.workers.local_worker()
        with self.timers["replay"]:
            beta = self.beta_schedule(self.num_steps_sampled)
            replayed = {}
            for pid, buffer in self.buffers.items():
                batch = buffer.sample(self.train_batch_size, beta=beta)
                if self.before_learn_on_batch:
                    batch = self.before_learn_on_batch(
                        batch, local.policy_map, self.train_batch_size
                    )
                replayed[pid] = batch
        with self.timers["learn"]:
            if multi_agent:
                fetches = local.learn_on_batch(MultiAgentBatch(replayed, self.train_batch_size))
            else:
                fetches = local.learn_on_batch(replayed[DEFAULT_POLICY_ID])
        with self.timers["update_priorities"]:
            for pid, batch in replayed.items():
                self._update_priorities(self.buffers[pid], batch, fetches.get(pid, {}))
        self.num_steps_trained += sum(b.count for b in replayed.values())
        self.learner_stats = {pid: learner_stats(stats) for pid, stats in fetches.items()}

    def _update_priorities(self, buffer: ReplayBuffer, batch: Any, fetches: dict) -> None:
        td_error = fetches.get("td_error")
        if td_error is not None:
            buffer.update_priorities(batch[BATCH_INDEXES], td_error)
        elif isinstance(buffer, PrioritizedReplayBuffer) and not self._warned:
            self._warned = True
            logger.warning(
                "Prioritized replay needs each row's 'td_error' among the loss's fetches "
                "(LossOutput(fetches={'td_error': ...})); the loss returns none, so rows "
                "keep the priority they were stored with."
            )

    def stats(self) -> dict[str, Any]:
        size = sum(len(b) for b in self.buffers.values())
        return {**super().stats(), "replay_buffer_size": size}

    def save(self) -> dict[str, Any]:
        """Counters; with ``store_buffer_in_checkpoints`` the buffer's rows too (``buffer``:
        the default policy's; ``buffers``: ``{policy_id: rows}`` of several policies)."""
        state = {**super().save(), "replays_owed": self._replays_owed}
        if self.store_buffer_in_checkpoints:
            if set(self.buffers) <= {DEFAULT_POLICY_ID}:
                state["buffer"] = self.buffer.get_state()
            else:
                state["buffers"] = {pid: b.get_state() for pid, b in self.buffers.items()}
        return state

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        self._replays_owed = float(state.get("replays_owed", 0.0))
        self.buffers = {}  # the checkpoint's rows, or none (refilled)
        saved = dict(state.get("buffers", {}))
        if "buffer" in state:
            saved[DEFAULT_POLICY_ID] = state["buffer"]
        for pid, buffer_state in saved.items():
            self.buffers[pid] = self._new_buffer()
            self.buffers[pid].set_state(buffer_state)
