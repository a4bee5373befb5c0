"""PolicyOptimizer: the base of every optimizer, with counters and episode metrics."""

from __future__ import annotations

import collections
import inspect
import time
from typing import Any

from plugrl import plugins
from plugrl.errors import ConfigError, did_you_mean
from plugrl.sampling.metrics import (
    RolloutMetrics,
    split_estimates,
    summarize_episodes,
    summarize_estimates,
)
from plugrl.sampling.worker_set import WorkerSet


class Timer:
    """Accumulates wall time of a repeated section (``with timer: ...``)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.count = 0
        self._start = 0.0

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.total += time.perf_counter() - self._start
        self.count += 1

    @property
    def mean_ms(self) -> float:
        return 1000 * self.total / self.count if self.count else 0.0


class PolicyOptimizer:
    """Runs one unit of sampling and learning per :meth:`step`.

    Subclasses implement :meth:`_step` and update ``num_steps_sampled`` and
    ``num_steps_trained``; ``learner_stats`` holds the latest ``{policy_id: stats}``.
    """

    def __init__(self, workers: WorkerSet):
        self.workers = workers
        self.config = workers.local_worker().config
        self.num_steps_sampled = 0
        self.num_steps_trained = 0
        self.learner_stats: dict[str, Any] = {}
        self.timers: dict[str, Timer] = collections.defaultdict(Timer)
        self.episode_history: collections.deque[RolloutMetrics] = collections.deque(
            maxlen=self.config["metrics_smoothing_episodes"]
        )
        self._new_episodes: list[RolloutMetrics] = []

    def step(self) -> Any:
        """Sample and learn once; returns the learner stats (``fetches``)."""
        hook = plugins.get_plugin_manager().hook
        hook.before_optimizer_step(optimizer=self)
        fetches = self._step()
        hook.after_optimizer_step(optimizer=self, fetches=fetches)
        return fetches

    def _step(self) -> Any:
        raise NotImplementedError

    def stats(self) -> dict[str, Any]:
        """Counters and timers for the ``info`` section of a result."""
        out: dict[str, Any] = {
            "num_steps_sampled": self.num_steps_sampled,
            "num_steps_trained": self.num_steps_trained,
        }
        for name, timer in self.timers.items():
            out[f"{name}_time_ms"] = round(timer.mean_ms, 3)
        return out

    def collect_metrics(self, selected_workers: list | None = None) -> dict[str, Any]:
        """Episode metrics over the last ``metrics_smoothing_episodes`` completed episodes,
        plus ``info`` with this optimizer's stats."""
        local = self.workers.local_worker()
        episodes = list(local.get_metrics())
        remotes = self.workers.remote_workers() if selected_workers is None else selected_workers
        refs = [w.get_metrics.remote() for w in remotes]
        timeout = self.config["collect_metrics_timeout"]
        for worker_episodes in self.workers.get(refs, remotes, timeout=timeout):
            episodes.extend(worker_episodes)
        episodes, estimates = split_estimates(episodes)
        self.episode_history.extend(episodes)
        result = summarize_episodes(list(self.episode_history), episodes)
        result["off_policy_estimator"] = summarize_estimates(estimates)
        result["sampler_perf"] = local.get_perf_stats()
        result["info"] = {"learner": self.learner_stats, **self.stats()}
        return result

    def save(self) -> dict[str, Any]:
        """Counters, and the episodes the metrics are smoothed over."""
        return {
            "num_steps_sampled": self.num_steps_sampled,
            "num_steps_trained": self.num_steps_trained,
            "episode_history": [list(episode) for episode in self.episode_history],
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.num_steps_sampled = int(state["num_steps_sampled"])
        self.num_steps_trained = int(state["num_steps_trained"])
        self.episode_history.clear()
        self.episode_history.extend(
            RolloutMetrics(int(length), float(reward), dict(custom), dict(hist), *rest)
            for length, reward, custom, hist, *rest in state.get("episode_history", [])
        )

    def stop(self) -> None:
        """Release resources the optimizer owns (threads, queues)."""


def build_optimizer(
    cls: type[PolicyOptimizer], workers: WorkerSet, overrides: dict[str, Any], **settings: Any
) -> PolicyOptimizer:
    """``cls(workers, **settings, **overrides)``, where ``overrides`` is
    ``config["optimizer"]``: a key ``cls`` does not take is a one-line ConfigError."""
    params = inspect.signature(cls.__init__).parameters
    accepted = [name for name in params if name not in ("self", "workers")]
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        for key in overrides:
            if key not in accepted:
                raise ConfigError(
                    f"Unknown key {key!r} in 'optimizer' for {cls.__name__}."
                    f"{did_you_mean(key, accepted)} It takes: {', '.join(accepted)}."
                )
    return cls(workers, **{**settings, **overrides})
