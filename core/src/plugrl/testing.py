"""Helpers for tests and benchmarks: the tuned examples, the CLI run in-process, and a local
Ray for tests of remote workers."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from plugrl.cli.main import main
from plugrl.cli.train import load_experiments
from plugrl.registry import get_trainer_class


def tuned_example(path: str | Path, **overrides: Any) -> tuple[type, dict[str, Any]]:
    """The trainer class and config (with its env, and ``overrides`` on top) of the one
    experiment in a tuned-example YAML file."""
    (spec,) = load_experiments(str(path)).values()
    config = {**(spec.get("config") or {}), "env": spec["env"], **overrides}
    return get_trainer_class(spec["run"]), config


def assert_learns(
    path: str | Path, reward: float, timesteps: int, logdir: str | Path, **overrides: Any
) -> dict[str, Any]:
    """Train a tuned example (``overrides`` on its config) until its mean episode reward
    reaches ``reward``; an AssertionError saying how far it got if ``timesteps`` run out
    first. Returns the last result."""
    trainer_class, config = tuned_example(path, **overrides)
    trainer = trainer_class(config=config, logdir=str(logdir))
    start = time.time()
    try:
        result = train_until(trainer, reward, timesteps)
    finally:
        trainer.stop()
    got = result["episode_reward_mean"]
    assert got >= reward, (
        f"{Path(path).name} reached {got:.1f}, not {reward}, in {result['timesteps_total']} "
        f"steps ({time.time() - start:.0f} s)"
    )
    return result


def train_until(trainer: Any, reward: float, timesteps: int) -> dict[str, Any]:
    """Train until ``episode_reward_mean`` reaches ``reward`` or ``timesteps_total`` reaches
    ``timesteps``; the last result."""
    while True:
        result = trainer.train()
        if result["episode_reward_mean"] >= reward or result["timesteps_total"] >= timesteps:
            return result


def assert_same_updates(
    policy: Any, weights: dict[str, Any], stats: dict[str, float], expected: dict[str, float]
) -> None:
    """``policy`` now holds ``weights`` and ``stats`` are the ``expected`` stats, within
    float32 round-off: two ways of making the same updates agree."""
    for name, value in policy.get_weights().items():
        np.testing.assert_allclose(weights[name], value, rtol=1e-5, atol=1e-6, err_msg=name)
    assert stats.keys() == expected.keys(), (sorted(stats), sorted(expected))
    for key, value in expected.items():
        assert math.isclose(stats[key], value, rel_tol=1e-4, abs_tol=1e-6), (key, stats[key], value)


def run_cli(capsys: Any, *args: str) -> tuple[int, str, str]:
    """Run ``plugrl ARGS`` in-process (``capsys``: pytest's fixture); returns
    ``(exit code, stdout, stderr)``."""
    try:
        main(list(args))
    except SystemExit as exit_info:
        code = exit_info.code
    else:
        raise AssertionError("plugrl's main() returned without exiting")
    out, err = capsys.readouterr()
    return int(code or 0), out, err


def cli_error(capsys: Any, *args: str) -> str:
    """The single ``plugrl: error:`` line of a command that must fail with exit code 2."""
    code, _, err = run_cli(capsys, *args)
    assert code == 2, (code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("plugrl: error: "), err
    assert "Traceback" not in err
    return lines[0]


@contextmanager
def local_ray(*by_value: ModuleType, num_cpus: int = 2) -> Iterator[Any]:
    """A Ray started on this machine for a group of tests (in pytest, a module-scoped fixture),
    shut down afterwards; yields the ``ray`` module.

    The classes and functions of the modules ``by_value`` (a test module: pytest imports those
    by path, so Ray workers could not import them) travel to the workers by value.
    """
    import cloudpickle
    import ray

    for module in by_value:
        cloudpickle.register_pickle_by_value(module)
    ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()
        for module in by_value:
            cloudpickle.unregister_pickle_by_value(module)
