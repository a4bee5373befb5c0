"""WorkerSet: the local RolloutWorker plus ``num_workers`` remote ones on Ray actors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from plugrl import plugins
from plugrl.config import COMMON_CONFIG, merge_dicts
from plugrl.env.creator import EnvCreator
from plugrl.errors import PluginError, WorkerError
from plugrl.evaluation.rollout_worker import RolloutWorker
from plugrl.registry import registry

logger = logging.getLogger(__name__)


def import_ray() -> Any:
    """Import Ray, or explain how to install it."""
    try:
        import ray
    except ImportError:
        raise PluginError(
            "num_workers > 0 runs rollout workers on Ray actors, but Ray is not installed: "
            "pip install 'plugrl[ray]' (or set num_workers to 0)."
        ) from None
    return ray


def ensure_ray(address: str | None = None) -> Any:
    """Start Ray (or join ``address``) unless it is already running."""
    ray = import_ray()
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
    return ray


class WorkerSet:
    """A local worker (index 0) and remote workers (indices 1..N) with the same policy.

    Args:
        env_creator: ``fn(env_context) -> gymnasium.Env``.
        policy: the Policy class (``policy_class`` is accepted as an alias).
        trainer_config: the trainer config (missing keys take COMMON_CONFIG values).
        num_workers: number of remote workers; defaults to ``trainer_config["num_workers"]``.
    """

    def __init__(
        self,
        *,
        env_creator: EnvCreator,
        policy: Any = None,
        policy_class: Any = None,
        trainer_config: dict | None = None,
        num_workers: int | None = None,
        logdir: str | None = None,
    ):
        self._env_creator = env_creator
        self._policy = policy or policy_class
        self._config = merge_dicts(COMMON_CONFIG, trainer_config or {}, allow_new=True)
        self._num_workers = self._config["num_workers"] if num_workers is None else num_workers
        self._config["num_workers"] = self._num_workers
        self.logdir = logdir
        self._local = RolloutWorker(env_creator, self._policy, self._config, 0, self._num_workers)
        self._remote: list[Any] = []
        self.add_workers(self._num_workers)

    def add_workers(self, num_workers: int) -> None:
        """Start ``num_workers`` more remote workers and wait until they are built.

        Each actor rebuilds the driver's plugin selection and gets the models and
        explorations registered at run time, which do not travel by themselves.
        """
        if num_workers <= 0:
            return
        ray = ensure_ray(self._config["ray_address"])
        actor_cls = ray.remote(
            num_cpus=self._config["num_cpus_per_worker"],
            num_gpus=self._config["num_gpus_per_worker"],
        )(RolloutWorker)
        runtime = {kind: registry(kind).runtime_items() for kind in ("models", "explorations")}
        start = len(self._remote) + 1
        new = [
            actor_cls.remote(
                self._env_creator,
                self._policy,
                self._config,
                index,
                self._num_workers,
                plugin_spec=plugins.get_host().spec(),
                runtime_registrations=runtime,
            )
            for index in range(start, start + num_workers)
        ]
        self.get([w.get_host.remote() for w in new], new)
        self._remote.extend(new)

    def local_worker(self) -> RolloutWorker:
        return self._local

    def remote_workers(self) -> list[Any]:
        return list(self._remote)

    def get(self, refs: list, workers: list | None = None, timeout: float | None = None) -> list:
        """``ray.get`` of one ref per worker (in order) that turns a failure or a time-out into
        one readable :class:`WorkerError` naming the worker."""
        if not refs:
            return []
        ray = import_ray()
        try:
            return ray.get(refs, timeout=timeout)
        except ray.exceptions.GetTimeoutError:
            raise WorkerError(
                f"Remote rollout workers did not answer within {timeout} s."
            ) from None
        except (ray.exceptions.RayActorError, ray.exceptions.RayTaskError) as exc:
            workers = workers if workers is not None else self._remote
            raise worker_error(exc, refs, workers, self._remote) from None

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
        refs = [w.apply.remote(func, i) for i, w in enumerate(self._remote, start=1)]
        return results + self.get(refs)

    def foreach_policy(self, func: Callable) -> list:
        return [r for rs in self.foreach_worker(lambda w: w.foreach_policy(func)) for r in rs]

    def foreach_trainable_policy(self, func: Callable) -> list:
        return self._local.foreach_policy(func)

    def trainable_policies(self) -> list[str]:
        return list(self._local.policy_map)

    def stop(self) -> None:
        self._local.stop()
        if self._remote:
            ray = import_ray()
            for w in self._remote:
                try:
                    w.stop.remote()
                    ray.kill(w)
                except Exception:  # an actor already gone needs no stopping
                    logger.debug("remote worker already stopped", exc_info=True)
            self._remote = []


def worker_error(exc: BaseException, refs: list, workers: list, all_workers: list) -> WorkerError:
    """One line naming the worker and the original exception, not pages of actor traceback."""
    ray = import_ray()
    label = "a remote rollout worker"
    for ref, worker in zip(refs, workers, strict=False):
        try:
            ray.get(ref, timeout=0)
        except (ray.exceptions.RayActorError, ray.exceptions.RayTaskError) as failed:
            exc = failed
            if worker in all_workers:
                label = f"remote rollout worker {all_workers.index(worker) + 1}"
            break
        except ray.exceptions.GetTimeoutError:
            continue
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException) and cause is not exc:
        what = f"{type(cause).__name__}: {cause}"
    else:
        lines = [line for line in str(exc).splitlines() if line.strip()]
        what = lines[-1].strip() if lines else type(exc).__name__
    return WorkerError(f"{label} failed: {what}")
