"""Episode metrics: what workers report and how a train() result summarises them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np


class RolloutMetrics(NamedTuple):
    """One completed episode."""

    episode_length: int
    episode_reward: float
    custom_metrics: dict[str, float]
    hist_data: dict[str, list]
    # multi-agent: {policy_id: [each of its agents' total reward]} (empty for one agent)
    policy_rewards: dict[str, list[float]] = {}


def summarize_episodes(
    episodes: Sequence[RolloutMetrics], new_episodes: Sequence[RolloutMetrics] | None = None
) -> dict[str, Any]:
    """RLlib's episode result keys over ``episodes`` (the smoothing window).

    ``new_episodes`` are those completed this iteration (their count is ``episodes_this_iter``;
    custom metrics are reduced over them). Means are NaN when no episode has completed yet.
    """
    new_episodes = episodes if new_episodes is None else new_episodes
    rewards = [e.episode_reward for e in episodes]
    lengths = [e.episode_length for e in episodes]
    nan = float("nan")
    custom: dict[str, list[float]] = defaultdict(list)
    for e in new_episodes:
        for key, value in e.custom_metrics.items():
            custom[key].append(value)
    custom_metrics: dict[str, float] = {}
    for key, values in custom.items():
        finite = [v for v in values if v is not None and np.isfinite(v)]
        custom_metrics[f"{key}_mean"] = float(np.mean(finite)) if finite else nan
        custom_metrics[f"{key}_min"] = float(np.min(finite)) if finite else nan
        custom_metrics[f"{key}_max"] = float(np.max(finite)) if finite else nan
    policy_rewards: dict[str, list[float]] = defaultdict(list)
    for e in episodes:
        for pid, values in e.policy_rewards.items():
            policy_rewards[pid].extend(values)
    hist_stats: dict[str, list] = {"episode_reward": rewards, "episode_lengths": lengths}
    for pid, values in policy_rewards.items():
        hist_stats[f"policy_{pid}_reward"] = values
    for e in new_episodes:
        for key, values in e.hist_data.items():
            hist_stats.setdefault(key, []).extend(values)
    return {
        "episode_reward_max": float(np.max(rewards)) if rewards else nan,
        "episode_reward_min": float(np.min(rewards)) if rewards else nan,
        "episode_reward_mean": float(np.mean(rewards)) if rewards else nan,
        "episode_len_mean": float(np.mean(lengths)) if lengths else nan,
        "episodes_this_iter": len(new_episodes),
        "policy_reward_min": {pid: float(np.min(v)) for pid, v in policy_rewards.items()},
        "policy_reward_max": {pid: float(np.max(v)) for pid, v in policy_rewards.items()},
        "policy_reward_mean": {pid: float(np.mean(v)) for pid, v in policy_rewards.items()},
        "custom_metrics": custom_metrics,
        "hist_stats": hist_stats,
    }


def split_estimates(items: Sequence[Any]) -> tuple[list[RolloutMetrics], list[Any]]:
    """What workers report, as (completed episodes, off-policy estimates)."""
    episodes = [m for m in items if isinstance(m, RolloutMetrics)]
    return episodes, [m for m in items if not isinstance(m, RolloutMetrics)]


def summarize_estimates(estimates: Sequence[Any]) -> dict[str, dict[str, float]]:
    """``{estimator: {metric: mean over the estimated episodes}}`` (``off_policy_estimator``)."""
    values: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for estimate in estimates:
        for metric, value in estimate.metrics.items():
            values[estimate.estimator_name][metric].append(value)
    return {
        name: {metric: float(np.mean(v)) for metric, v in metrics.items()}
        for name, metrics in values.items()
    }
