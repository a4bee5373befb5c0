"""Helpers for tests and benchmarks that train the tuned examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plugrl.cli.train import load_experiments
from plugrl.registry import get_trainer_class


def tuned_example(path: str | Path, **overrides: Any) -> tuple[type, dict[str, Any]]:
    """The trainer class and config (with its env, and ``overrides`` on top) of the one
    experiment in a tuned-example YAML file."""
    (spec,) = load_experiments(str(path)).values()
    config = {**(spec.get("config") or {}), "env": spec["env"], **overrides}
    return get_trainer_class(spec["run"]), config


def train_until(trainer: Any, reward: float, timesteps: int) -> dict[str, Any]:
    """Train until ``episode_reward_mean`` reaches ``reward`` or ``timesteps_total`` reaches
    ``timesteps``; the last result."""
    while True:
        result = trainer.train()
        if result["episode_reward_mean"] >= reward or result["timesteps_total"] >= timesteps:
            return result
