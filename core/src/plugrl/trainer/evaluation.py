"""Evaluation during training: the evaluation workers, how long a round runs, and running a
round beside the training step or around stuck and failed workers.

A round asks the evaluation workers for ``evaluation_duration`` units
(``evaluation_duration_unit``: ``"episodes"`` or ``"timesteps"``), split across
``evaluation_num_workers`` (:class:`DurationPlan`), with the weights and observation filters of
the driver's local worker. With no evaluation workers the evaluation local worker runs it all.

Episodes: each worker runs its share of complete episodes. Timesteps: each worker samples
truncated fragments until it has stepped its share; the episode metrics come from the episodes
that complete meanwhile. Either way an episode still running when a worker's share is reached
is not thrown away: it carries on in the worker's next request, and is reported in the round in
which it ends (so an episode longer than a round still gets reported).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plugrl.config import TrainerConfig, merge_dicts
from plugrl.env.creator import make_env_creator
from plugrl.errors import ConfigError
from plugrl.sampling.metrics import RolloutMetrics, split_estimates, summarize_episodes
from plugrl.sampling.ray_session import import_ray
from plugrl.sampling.worker_set import WorkerSet

if TYPE_CHECKING:
    from plugrl.trainer.trainer import Trainer

logger = logging.getLogger("plugrl")

UNITS = ("episodes", "timesteps")
# How often an asynchronous round looks at the clock, the training step and overdue requests.
_POLL_S = 0.05
# An asynchronous request is overdue (its share is handed to an idle worker) once it has run
# this many times as long per unit as the slowest request the round has seen complete.
_OVERDUE_FACTOR = 2.0


def check_evaluation_config(config: dict) -> None:
    """The evaluation keys that only make sense together: a one-line :class:`ConfigError`."""
    if (
        config["evaluation_interval"]
        and config["evaluation_config"].get("env", config["env"]) is None
    ):
        raise ConfigError(
            "Evaluation plays the policy in an env, and this config has none (env: None): give "
            "evaluation_config an env (e.g. {'env': 'CartPole-v1'}), or set evaluation_interval "
            "to None."
        )
    if duration_of(config) == "auto" and not config["evaluation_parallel_to_training"]:
        raise ConfigError(
            "evaluation_duration 'auto' evaluates for as long as the training step runs, so it "
            "needs evaluation_parallel_to_training: True; set that, or give evaluation_duration "
            f"a number of {config['evaluation_duration_unit']}."
        )


def duration_of(config: dict) -> int | str:
    """``evaluation_duration``, or ``evaluation_num_episodes`` (the older name) when set."""
    return config["evaluation_num_episodes"] or config["evaluation_duration"]


@dataclass(frozen=True)
class DurationPlan:
    """How long a round runs and how it is shared out.

    Attributes:
        unit: ``"episodes"`` or ``"timesteps"``.
        total: units per round; None for ``"auto"`` (as long as the training step runs).
        num_workers: the evaluation workers configured (0: the local worker evaluates).
        env_steps_per_sample: env steps of one ``sample()`` call in ``"timesteps"`` rounds:
            ``rollout_fragment_length * num_envs_per_worker`` of the evaluation config.
    """

    unit: str
    total: int | None
    num_workers: int
    env_steps_per_sample: int = 1

    @classmethod
    def from_config(cls, config: dict) -> DurationPlan:
        """The plan of a trainer config; ``evaluation_num_episodes`` N means N episodes."""
        duration = duration_of(config)
        legacy = config["evaluation_num_episodes"]
        unit = "episodes" if legacy else config["evaluation_duration_unit"]
        evaluation = merge_dicts(config, config["evaluation_config"])
        return cls(
            unit=unit,
            total=None if duration == "auto" else int(duration),
            num_workers=config["evaluation_num_workers"],
            env_steps_per_sample=(
                evaluation["rollout_fragment_length"] * evaluation["num_envs_per_worker"]
            ),
        )

    def shares(self, num_workers: int) -> list[int]:
        """Units per worker (in worker order) when ``num_workers`` share a round.

        Episodes: an equal number each, and the remainder one more each on the first workers
        (10 on 7 workers: 2, 2, 2, 1, 1, 1, 1). Timesteps: the total rounded up to a multiple of
        the workers (200 on 3 workers: 67 each). ``"auto"``: one request's worth each (one
        episode, or one ``sample()`` call of timesteps).
        """
        n = max(1, num_workers)
        if self.total is None:
            return [self.chunk] * n
        if self.unit == "episodes":
            base, extra = divmod(self.total, n)
            return [base + (i < extra) for i in range(n)]
        return [math.ceil(self.total / n)] * n

    @property
    def chunk(self) -> int:
        """Units of one request in ``"auto"`` rounds."""
        return 1 if self.unit == "episodes" else self.env_steps_per_sample

    def worker_overrides(self, num_envs_per_worker: int) -> dict[str, Any]:
        """Evaluation worker config for this plan: complete episodes for ``"episodes"``; for
        ``"timesteps"`` truncated fragments of one worker's share per ``sample()`` call (the
        envs of a worker step together, so a share is also rounded up to a multiple of
        ``num_envs_per_worker``)."""
        if self.unit == "episodes":
            return {"batch_mode": "complete_episodes", "rollout_fragment_length": 1}
        if self.total is None:
            return {"batch_mode": "truncate_episodes"}
        share = self.shares(self.num_workers)[0]
        return {
            "batch_mode": "truncate_episodes",
            "rollout_fragment_length": math.ceil(share / num_envs_per_worker),
        }


def collect_units(worker: Any, unit: str, count: int) -> tuple[int, list[RolloutMetrics], int]:
    """One request, run on an evaluation worker: sample until ``count`` episodes have completed
    (``"episodes"``; the first ``count`` are returned, and the env steps counted are theirs)
    or at least ``count`` env steps were taken (``"timesteps"``). Returns ``(worker_index,
    completed episodes, env steps)``.

    Episodes the worker completed before the request (outside evaluation rounds) are dropped.
    """
    worker.get_metrics()
    episodes: list[RolloutMetrics] = []
    steps = 0
    while len(episodes) < count if unit == "episodes" else steps < count:
        steps += worker.sample().count
        episodes.extend(split_estimates(worker.get_metrics())[0])
    if unit == "episodes":
        episodes, steps = _first_episodes(episodes, steps, count)
    return worker.worker_index, episodes, steps


def _first_episodes(
    episodes: list[RolloutMetrics], steps: int, count: int
) -> tuple[list[RolloutMetrics], int]:
    """The first ``count`` of ``episodes``, and ``steps`` less the lengths of those left out."""
    return episodes[:count], steps - sum(e.episode_length for e in episodes[count:])


class _Tally:
    """What a round has collected, and from whom."""

    def __init__(self, unit: str, target: int | None):
        self.unit = unit
        self.target = target
        self.episodes: list[RolloutMetrics] = []
        self.steps = 0
        self.units: Counter[int] = Counter()
        self.failed = 0

    @property
    def done(self) -> int:
        return sum(self.units.values())

    def add(self, worker_index: int, episodes: list[RolloutMetrics], steps: int) -> None:
        if self.unit == "episodes":
            if self.target is not None:  # a late request may bring more than the round needs
                episodes, steps = _first_episodes(episodes, steps, max(0, self.target - self.done))
            units = len(episodes)
        else:
            units = steps
        self.episodes.extend(episodes)
        self.steps += steps
        self.units[worker_index] += units

    def reached(self) -> bool:
        return self.target is not None and self.done >= self.target


@dataclass
class _Request:
    worker: Any
    units: int
    started: float


class Evaluator:
    """Runs a trainer's evaluation rounds on its own :class:`WorkerSet` (``workers``).

    Sequential rounds (:meth:`evaluate`) run after the training step, with its weights.
    With ``evaluation_parallel_to_training``, :meth:`start_parallel` (called before the
    training step) syncs the weights and filters of the previous iteration and starts the round
    in a thread; :meth:`finish_parallel` (after the step) waits for it. Callbacks and
    ``before_evaluate_fn`` run on the trainer's thread; ``custom_eval_function`` runs where the
    round runs.
    """

    def __init__(self, trainer: Trainer):
        config = trainer.config
        self._trainer = trainer
        self.plan = DurationPlan.from_config(config)
        self.interval: int = config["evaluation_interval"]
        self.parallel: bool = config["evaluation_parallel_to_training"]
        self.asynchronous: bool = config["enable_async_evaluation"]
        self.timeout_s: float = config["evaluation_sample_timeout_s"]
        # evaluation_config may name an env of its own (a trainer fed by a server has none)
        env = config["evaluation_config"].get("env")
        self.workers: WorkerSet = trainer._make_workers(
            trainer.env_creator
            if env is None
            else make_env_creator(env, trainer.config["preprocessor_pref"]),
            trainer._policy_class,
            self._worker_config(config),
            config["evaluation_num_workers"],
        )
        self._busy: dict[Any, Any] = {}  # remote worker -> ref of a request from an earlier round
        self._warned_stuck: set[Any] = set()
        self._weights_iteration = 0
        self._thread: threading.Thread | None = None
        self._outcome: tuple[dict | None, BaseException | None] = (None, None)
        self._training_done = threading.Event()

    def _worker_config(self, config: dict) -> TrainerConfig:
        """The trainer config with ``evaluation_config`` and this plan's sampling on top; with
        ``enable_async_evaluation`` a failed worker is dropped unless it is recreated."""
        worker_config = TrainerConfig(merge_dicts(config, config["evaluation_config"]))
        worker_config.update(
            in_evaluation=True, **self.plan.worker_overrides(worker_config["num_envs_per_worker"])
        )
        # evaluation plays the policy in the envs, and writes no offline data, unless told
        for key, value in (("input", "sampler"), ("output", None)):
            worker_config[key] = config["evaluation_config"].get(key, value)
        if self.asynchronous:
            worker_config["ignore_worker_failures"] = True
        return worker_config

    def due(self, iteration: int) -> bool:
        """Whether iteration ``iteration`` (counted from 1) has an evaluation round."""
        return iteration % self.interval == 0

    # --- rounds -----------------------------------------------------------------------------

    def evaluate(self) -> dict[str, Any]:
        """Run one round now, with the trainer's current weights and filters."""
        self._before_round()
        self._training_done.set()  # nothing runs beside it
        metrics = self._round()
        self._trainer.callbacks.call(
            "on_evaluate_end", trainer=self._trainer, evaluation_metrics=metrics
        )
        return metrics

    def start_parallel(self, iteration: int) -> None:
        """Before the training step of ``iteration``: when it evaluates, sync the weights and
        filters (the end of the previous iteration) and start the round in a thread."""
        if not (self.parallel and self.due(iteration)):
            return
        self._abandon_thread()
        self._before_round()
        self._training_done.clear()
        self._outcome = (None, None)
        self._thread = threading.Thread(
            target=self._round_in_thread, name="plugrl-evaluation", daemon=True
        )
        self._thread.start()

    def finish_parallel(self) -> dict[str, Any] | None:
        """After the training step: wait for the round started by :meth:`start_parallel` and
        return its metrics (None when none was started)."""
        if self._thread is None:
            return None
        self._training_done.set()
        self._thread.join()
        self._thread = None
        metrics, error = self._outcome
        self._outcome = (None, None)
        if error is not None:
            raise error
        self._trainer.callbacks.call(
            "on_evaluate_end", trainer=self._trainer, evaluation_metrics=metrics
        )
        return metrics

    def _round_in_thread(self) -> None:
        try:
            self._outcome = (self._round(), None)
        except BaseException as exc:  # handed to the trainer's thread by finish_parallel
            self._outcome = (None, exc)

    def _abandon_thread(self) -> None:
        """Forget a round whose training step failed before :meth:`finish_parallel`."""
        if self._thread is not None:
            self._training_done.set()
            self._thread.join(timeout=self.timeout_s)
            self._thread = None

    def _before_round(self) -> None:
        trainer = self._trainer
        if trainer._template["before_evaluate_fn"]:
            trainer._template["before_evaluate_fn"](trainer)
        trainer.callbacks.call("on_evaluate_start", trainer=trainer)
        self._sync_weights()

    def _sync_weights(self) -> None:
        """Give every evaluation worker the driver's weights, global vars and filters. A remote
        worker still busy with an earlier asynchronous request gets them after it (a Ray
        actor runs its calls in order), without waiting for it."""
        local = self._trainer.workers.local_worker()
        global_vars, filters = local.get_global_vars(), local.get_filters()
        eval_local = self.workers.local_worker()
        eval_local.set_weights(local.get_weights(), global_vars)
        eval_local.sync_filters(filters)
        self._weights_iteration = self._trainer.iteration
        remotes = self.workers.remote_workers()
        if not remotes:
            return
        weights = import_ray().put(eval_local.get_weights())
        idle = [w for w in remotes if w not in self._busy]
        for worker in remotes:
            if worker in self._busy:
                worker.set_weights.remote(weights, global_vars)
                worker.sync_filters.remote(filters)
        self.workers.get([w.set_weights.remote(weights, global_vars) for w in idle], idle)
        idle = [w for w in self.workers.remote_workers() if w in idle]
        self.workers.get([w.sync_filters.remote(filters) for w in idle], idle)

    def _round(self) -> dict[str, Any]:
        custom = self._trainer.config["custom_eval_function"]
        if custom:
            return custom(self._trainer, self.workers)
        tally = _Tally(self.plan.unit, self.plan.total)
        stuck = 0
        if not self.workers.remote_workers():
            self._run_local(tally)
        elif self.asynchronous:
            stuck = self._run_async(tally)
        else:
            self._run_sync(tally)
        metrics = summarize_episodes(tally.episodes)
        metrics.update(
            timesteps_this_iter=tally.steps,
            duration_unit=self.plan.unit,
            units_per_worker={str(i): n for i, n in sorted(tally.units.items())},
            num_healthy_workers=len(self.workers.remote_workers()),
            num_failed_workers=tally.failed,
            num_stuck_workers=stuck,
            weights_iteration=self._weights_iteration,
        )
        return metrics

    def _rounds_left(self, tally: _Tally) -> bool:
        """``"auto"``: go on while the training step runs (and until something came)."""
        return not (self._training_done.is_set() and tally.done)

    def _run_local(self, tally: _Tally) -> None:
        worker = self.workers.local_worker()
        if self.plan.total is not None:
            tally.add(*collect_units(worker, self.plan.unit, self.plan.total))
            return
        while self._rounds_left(tally):
            tally.add(*collect_units(worker, self.plan.unit, self.plan.chunk))

    def _run_sync(self, tally: _Tally) -> None:
        """One request per worker for its share (``"auto"``: again while training runs), and
        wait for all; a failure follows the fault-tolerance settings (:meth:`WorkerSet.get`)."""
        while True:
            remotes = self.workers.remote_workers()
            shares = self.plan.shares(len(remotes))
            asked = [(w, n) for w, n in zip(remotes, shares, strict=True) if n]
            refs = [w.apply.remote(collect_units, self.plan.unit, n) for w, n in asked]
            for ref, (worker, _) in zip(refs, asked, strict=True):
                got = self.workers.get([ref], [worker])
                if got:
                    tally.add(*got[0])
                else:  # dropped or recreated (ignore_worker_failures, recreate_failed_workers)
                    tally.failed += 1
            if self.plan.total is not None or not self._rounds_left(tally):
                return

    def _run_async(self, tally: _Tally) -> int:
        """Hand requests to idle workers until the round's units are reached; returns how many
        workers were left busy (stuck, or slower than the others) when the round ended.

        A worker's first request is its share; a failed one's share (the worker is recreated
        with ``recreate_failed_workers``, else dropped) and an overdue one's go to idle workers.
        The round ends when the units are reached, or (``"auto"``) when the training step has
        finished, or after ``evaluation_sample_timeout_s`` with what came (and a warning).
        """
        ray = import_ray()
        failures = (ray.exceptions.RayActorError, ray.exceptions.RayTaskError)
        plan = self.plan
        start = time.monotonic()
        deadline = start + self.timeout_s
        current: dict[Any, _Request] = {}  # ref -> request of this round
        remotes = self.workers.remote_workers()
        first_share = dict(zip(remotes, plan.shares(len(remotes)), strict=True))
        slowest_per_unit = 0.0

        def overdue(request: _Request, now: float) -> bool:
            limit = _OVERDUE_FACTOR * slowest_per_unit * request.units
            return slowest_per_unit > 0 and now - request.started > limit

        while True:
            now = time.monotonic()
            on_time = [r for r in current.values() if not overdue(r, now)]
            if plan.total is not None:
                finished = tally.reached()
            else:  # "auto": once training is done, the requests still on time are awaited
                finished = not self._rounds_left(tally) and not on_time
            if finished:
                break
            if now >= deadline:
                self._warn_timeout(tally, current)
                break
            if not tally.reached() and (plan.total is not None or self._rounds_left(tally)):
                busy = set(self._busy) | {r.worker for r in current.values()}
                for worker in self.workers.remote_workers():
                    if worker in busy:
                        continue
                    units = self._request_size(worker, first_share, tally, on_time)
                    if units:
                        ref = worker.apply.remote(collect_units, plan.unit, units)
                        current[ref] = _Request(worker, units, now)
                        on_time.append(current[ref])
                        first_share.pop(worker, None)
            pending = list(current) + list(self._busy.values())
            if not pending:
                break
            ready, _ = ray.wait(pending, num_returns=1, timeout=_POLL_S)
            for ref in ready:
                request = current.pop(ref, None)
                worker = request.worker if request else self._stale_worker(ref)
                try:
                    got = ray.get(ref)
                except failures as exc:
                    tally.failed += 1
                    if worker is not None:
                        self.workers.recover(worker, exc)
                    continue
                if request is None:  # a request of an earlier round: older weights
                    continue
                tally.add(*got)
                took = time.monotonic() - request.started
                slowest_per_unit = max(slowest_per_unit, took / request.units)
        now = time.monotonic()
        stuck = set(self._busy) | {r.worker for r in current.values() if overdue(r, now)}
        for ref, request in current.items():
            self._busy[request.worker] = ref
        live = set(self.workers.remote_workers())
        self._busy = {w: ref for w, ref in self._busy.items() if w in live}
        stuck &= live
        self._warn_stuck(stuck)
        return len(stuck)

    def _request_size(
        self, worker: Any, first_share: dict[Any, int], tally: _Tally, on_time: list[_Request]
    ) -> int:
        """Units for an idle ``worker``: its share, or what is neither done nor asked of a
        worker that is on time (at most a share); 0 when nothing is left to ask for."""
        plan = self.plan
        if plan.total is None:
            return plan.chunk
        share = first_share.get(worker) or plan.shares(plan.num_workers)[0]
        asked = sum(r.units for r in on_time)
        return max(0, min(share, plan.total - tally.done - asked))

    def _stale_worker(self, ref: Any) -> Any:
        """The worker of a request from an earlier round, which is now no longer busy."""
        for worker, busy_ref in list(self._busy.items()):
            if busy_ref == ref:
                del self._busy[worker]
                return worker
        return None

    def _warn_stuck(self, stuck: set[Any]) -> None:
        for worker in stuck:
            if worker not in self._warned_stuck:
                self._warned_stuck.add(worker)
                logger.warning(
                    "Evaluation: %s is still busy with an earlier request (a slow or stuck env?); "
                    "the other evaluation workers cover its share until it answers.",
                    self.workers.worker_label(worker),
                )
        self._warned_stuck &= stuck

    def _warn_timeout(self, tally: _Tally, current: dict[Any, _Request]) -> None:
        wanted = "as long as training ran" if self.plan.total is None else self.plan.total
        waiting = sorted({self.workers.worker_label(r.worker) for r in current.values()})
        logger.warning(
            "Evaluation round stopped after evaluation_sample_timeout_s=%s s with %d of %s %s; "
            "still waiting for: %s.",
            self.timeout_s,
            tally.done,
            wanted,
            self.plan.unit,
            ", ".join(waiting) or "nothing",
        )

    def stop(self) -> None:
        """Stop the evaluation workers (a round still running in a thread is abandoned)."""
        self._training_done.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None
        self.workers.stop()
