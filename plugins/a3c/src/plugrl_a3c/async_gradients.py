"""AsyncGradientsOptimizer: remote workers sample and compute gradients concurrently; the
driver applies each gradient as it arrives and sends fresh weights back to its sender only."""

from __future__ import annotations

from typing import Any

from plugrl import PolicyOptimizer, SampleBatch, WorkerSet
from plugrl.errors import ConfigError
from plugrl.sampling.ray_session import import_ray


def sample_and_compute_gradients(
    worker: Any, weights: dict[str, Any], global_vars: dict[str, Any]
) -> tuple[list, dict, int]:
    """Run on a remote worker: take ``weights``, then one ``sample()``, its gradients, their
    stats and its size (one actor call per gradient)."""
    worker.set_weights(weights, global_vars)
    batch: SampleBatch = worker.sample()
    grads, info = worker.compute_gradients(batch)
    return grads, info, worker.count_steps(batch)


class AsyncGradientsOptimizer(PolicyOptimizer):
    """A3C's optimizer. Every remote worker always has one task in flight (sample, then
    gradients on that sample, with the weights it last received); each :meth:`step` applies
    ``grads_per_step`` gradients in the order they finish. A worker that fails is handled by
    the WorkerSet (an error, dropped, or replaced), and a replacement gets a task at once.

    Args:
        workers: a WorkerSet with at least one remote worker.
        grads_per_step: gradients applied per ``step()``.
    """

    def __init__(self, workers: WorkerSet, grads_per_step: int = 100):
        super().__init__(workers)
        if not workers.remote_workers():
            raise ConfigError(
                "AsyncGradientsOptimizer needs remote workers to compute gradients: set "
                "num_workers >= 1."
            )
        if not isinstance(grads_per_step, int) or grads_per_step < 1:
            raise ConfigError(f"grads_per_step must be an integer >= 1, got {grads_per_step!r}.")
        self.grads_per_step = grads_per_step
        self._ray = import_ray()
        self._in_flight: dict[Any, Any] = {}  # object ref -> the worker computing it

    def _step(self) -> dict[str, Any]:
        ray = self._ray
        local = self.workers.local_worker()
        fetches: dict[str, Any] = {}
        applied = 0
        while applied < self.grads_per_step:
            self._launch_idle_workers()
            with self.timers["wait"]:
                [ready], _ = ray.wait(list(self._in_flight), num_returns=1)
            worker = self._in_flight.pop(ready)
            got = self.workers.get([ready], [worker])  # [] when a tolerated failure
            if not got:
                continue
            grads, info, count = got[0]
            with self.timers["apply"]:
                local.apply_gradients(grads)
            self.num_steps_sampled += count
            self.num_steps_trained += count
            local.set_global_vars({"timestep": self.num_steps_sampled})
            self._launch(worker)
            fetches = {pid: stats.get("learner_stats", stats) for pid, stats in info.items()}
            applied += 1
        self.learner_stats = fetches
        return fetches

    def _launch(self, worker: Any) -> None:
        """Queue ``worker``'s next task, with the current weights (sent to it alone)."""
        local = self.workers.local_worker()
        ref = worker.apply.remote(
            sample_and_compute_gradients, local.get_weights(), local.get_global_vars()
        )
        self._in_flight[ref] = worker

    def _launch_idle_workers(self) -> None:
        """Give every remote worker without a task (at the start, after a restore, a
        replacement) a task."""
        busy = list(self._in_flight.values())
        for worker in self.workers.remote_workers():
            if worker not in busy:
                self._launch(worker)

    def restore(self, state: dict[str, Any]) -> None:
        """Restore the counters; gradients in flight were computed from the weights before
        the restore and are dropped."""
        super().restore(state)
        self._in_flight.clear()

    def stop(self) -> None:
        self._in_flight.clear()
