"""WorkerSet: the local RolloutWorker plus ``num_workers`` remote ones on Ray actors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from plugrl import plugins
from plugrl.config import COMMON_CONFIG, complete_config
from plugrl.env.creator import EnvCreator
from plugrl.errors import WorkerError
from plugrl.registry import runtime_registrations
from plugrl.sampling import ray_session
from plugrl.sampling.ray_session import import_ray
from plugrl.sampling.rollout_worker import RolloutWorker

logger = logging.getLogger(__name__)
# How long stop() waits for remote workers to close their envs and output files.
_STOP_TIMEOUT_S = 5.0


class WorkerSet:
    """A local worker (index 0) and remote workers (indices 1..N) with the same policy.

    Args:
        env_creator: ``fn(env_context) -> gymnasium.Env``; None for workers without envs
            (see :class:`~plugrl.sampling.rollout_worker.RolloutWorker`).
        policy: the Policy class (``policy_class`` is accepted as an alias).
        trainer_config: the trainer config (missing keys take COMMON_CONFIG values).
        num_workers: number of remote workers; defaults to ``trainer_config["num_workers"]``.
    """

    def __init__(
        self,
        *,
        env_creator: EnvCreator | None,
        policy: Any = None,
        policy_class: Any = None,
        trainer_config: dict | None = None,
        num_workers: int | None = None,
        logdir: str | None = None,
    ):
        self._env_creator = env_creator
        self._policy = policy or policy_class
        self._config = complete_config(trainer_config, COMMON_CONFIG)
        self._num_workers = self._config["num_workers"] if num_workers is None else num_workers
        self.logdir = logdir
        self._local = RolloutWorker(
            env_creator, self._policy, self._config, 0, self._num_workers, log_dir=logdir
        )
        self._remote: list[Any] = []
        self._index: dict[Any, int] = {}  # remote worker -> its worker_index
        self.num_restarts = 0
        self._holds_ray = False  # this set uses the Ray session (released on stop)
        self.add_workers(self._num_workers)

    def add_workers(self, num_workers: int) -> None:
        """Start ``num_workers`` more remote workers and wait until they are built."""
        start = max(self._index.values(), default=0) + 1  # indices of dropped ones stay used
        self._remote.extend(self._start_workers(range(start, start + num_workers)))

    def _start_workers(self, indices: Any) -> list[Any]:
        """New remote workers with the given indices, built and ready.

        Each actor rebuilds the driver's plugin selection and gets the models and
        explorations registered at run time, which do not travel by themselves.
        """
        indices = list(indices)
        if not indices:
            return []
        if not self._holds_ray:
            ray_session.acquire(self._config["ray_address"])
            self._holds_ray = True
        ray = import_ray()
        actor_cls = ray.remote(
            num_cpus=self._config["num_cpus_per_worker"],
            num_gpus=self._config["num_gpus_per_worker"],
        )(RolloutWorker)
        runtime = runtime_registrations(("models", "explorations"))
        new = [
            actor_cls.remote(
                self._env_creator,
                self._policy,
                self._config,
                index,
                self._num_workers,
                plugin_spec=plugins.get_host().spec(),
                runtime_registrations=runtime,
                log_dir=self.logdir,
            )
            for index in indices
        ]
        for index, worker in zip(indices, new, strict=True):
            self._index[worker] = index
            try:
                ray.get(worker.get_host.remote())
            except (ray.exceptions.RayActorError, ray.exceptions.RayTaskError) as exc:
                raise WorkerError(
                    f"remote rollout worker {index} could not be started: {describe_failure(exc)}"
                ) from None
        return new

    def local_worker(self) -> RolloutWorker:
        return self._local

    def remote_workers(self) -> list[Any]:
        return list(self._remote)

    def get(self, refs: list, workers: list | None = None, timeout: float | None = None) -> list:
        """``ray.get`` of one ref per worker (``workers``, in order; default all remote ones).

        A failed worker goes to :meth:`recover`: by default a one-line :class:`WorkerError`
        naming it; with ``ignore_worker_failures`` or ``recreate_failed_workers`` its result is
        left out and the results of the others are returned.
        """
        if not refs:
            return []
        ray = import_ray()
        failures = (ray.exceptions.RayActorError, ray.exceptions.RayTaskError)
        try:
            return ray.get(refs, timeout=timeout)
        except ray.exceptions.GetTimeoutError:
            raise WorkerError(
                f"Remote rollout workers did not answer within {timeout} s."
            ) from None
        except failures:
            pass
        results = []
        workers = list(self._remote if workers is None else workers)
        for ref, worker in zip(refs, workers, strict=True):
            try:
                results.append(ray.get(ref, timeout=timeout))
            except failures as exc:
                self.recover(worker, exc)
            except ray.exceptions.GetTimeoutError:
                raise WorkerError(
                    f"{self.worker_label(worker)} did not answer within {timeout} s."
                ) from None
        return results

    def recover(self, worker: Any, exc: BaseException) -> Any | None:
        """Deal with remote ``worker`` having failed with ``exc``.

        Raises a one-line :class:`WorkerError` naming the worker and the original exception,
        unless the config says otherwise: ``recreate_failed_workers`` starts a replacement with
        the same index and the local worker's weights, global vars and filters, and returns it
        (at most ``max_num_worker_restarts`` times in all);
        ``ignore_worker_failures`` drops the worker and returns None (an error when none are
        left). A worker already dealt with returns None.
        """
        message = f"{self.worker_label(worker)} failed: {describe_failure(exc)}"
        recreate = self._config["recreate_failed_workers"]
        if not (recreate or self._config["ignore_worker_failures"]):
            raise WorkerError(message)
        if recreate and self.num_restarts >= self._config["max_num_worker_restarts"]:
            raise WorkerError(
                f"{message} (not recreated: max_num_worker_restarts="
                f"{self._config['max_num_worker_restarts']} replacements were started already)."
            )
        if worker not in self._remote:
            return None
        position = self._remote.index(worker)
        _kill(worker)
        if not recreate:
            del self._remote[position]
            if not self._remote:
                raise WorkerError(f"{message}; no healthy remote workers are left.")
            logger.warning("%s; carrying on with %d remote workers", message, len(self._remote))
            return None
        logger.warning("%s; starting a replacement", message)
        [new] = self._start_workers([self._index.pop(worker)])
        ray = import_ray()
        local = self._local
        ray.get(
            [
                new.set_weights.remote(local.get_weights(), local.get_global_vars()),
                new.sync_filters.remote(local.get_filters()),
            ]
        )
        self._remote[position] = new
        self.num_restarts += 1
        return new

    def worker_label(self, worker: Any) -> str:
        index = self._index.get(worker)
        return "a remote rollout worker" if index is None else f"remote rollout worker {index}"

    def sync_weights(self, global_vars: dict | None = None) -> None:
        """Send the local worker's weights (and global vars) to every remote worker."""
        if not self._remote:
            return
        ray = import_ray()
        weights = ray.put(self._local.get_weights())
        self.get([w.set_weights.remote(weights, global_vars) for w in self._remote])

    def foreach_worker(self, func: Callable) -> list:
        """``[func(local_worker), func(remote_1), ...]``."""
        results = [func(self._local)]
        return results + self.get([w.apply.remote(func) for w in self._remote])

    def foreach_worker_with_index(self, func: Callable) -> list:
        """``[func(local_worker, 0), func(remote_1, 1), ...]``."""
        results = [func(self._local, 0)]
        refs = [w.apply.remote(func, self._index[w]) for w in self._remote]
        return results + self.get(refs)

    def foreach_policy(self, func: Callable) -> list:
        return [r for rs in self.foreach_worker(lambda w: w.foreach_policy(func)) for r in rs]

    def foreach_trainable_policy(self, func: Callable) -> list:
        return self._local.foreach_trainable_policy(func)

    def trainable_policies(self) -> list[str]:
        return list(self._local.policies_to_train)

    def stop(self) -> None:
        """Stop every worker (envs closed, output files finished: a remote file system
        uploads them now), then end the remote actors."""
        self._local.stop()
        if self._remote:
            ray = import_ray()
            stopping = [worker.stop.remote() for worker in self._remote]
            try:
                ray.wait(stopping, num_returns=len(stopping), timeout=_STOP_TIMEOUT_S)
            except Exception:  # an actor already gone needs no stopping
                logger.debug("remote workers already stopped", exc_info=True)
        for worker in self._remote:
            _kill(worker)
        self._remote = []
        if self._holds_ray:
            self._holds_ray = False
            ray_session.release()


def _kill(worker: Any) -> None:
    try:
        import_ray().kill(worker)
    except Exception:  # an actor already gone needs no killing
        logger.debug("remote worker already gone", exc_info=True)


def describe_failure(exc: BaseException) -> str:
    """The original exception of a failed remote call, in one line (not the actor traceback)."""
    ray = import_ray()
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException) and cause is not exc:
        return f"{type(cause).__name__}: {cause}"
    if isinstance(exc, ray.exceptions.RayActorError):
        return f"its process died ({type(exc).__name__})"
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(exc).__name__
