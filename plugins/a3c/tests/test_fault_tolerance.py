"""Worker failures on real Ray actors: an env that raises on its Nth step, and a worker process
that exits mid-sample. Recreated workers let training reach its stop criterion; dropped ones
leave it running on the rest; with neither option training stops with one readable line and
the last checkpoint stays intact."""

from __future__ import annotations

import os
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from plugrl import WorkerError
from plugrl_a3c import A2CTrainer, A3CTrainer
from plugrl_a3c.testing import TINY_CONFIG

pytestmark = pytest.mark.ray


class FlakyCartPole(gym.Wrapper):
    """CartPole that fails once (across processes: a marker file) in one chosen worker.

    env_config: ``faults``: a list of ``{"worker": i, "step": n, "how": "raise" | "exit",
    "marker": path | None}``; the fault happens on the worker's n-th env step (with no marker,
    in every process that gets there).
    """

    def __init__(self, env_config):
        super().__init__(gym.make("CartPole-v1"))
        self.faults = [f for f in env_config["faults"] if f["worker"] == env_config.worker_index]
        self.steps = 0

    def step(self, action):
        self.steps += 1
        for fault in self.faults:
            marker = fault["marker"] and Path(fault["marker"])
            if self.steps == fault["step"] and not (marker and marker.exists()):
                if marker:
                    marker.touch()
                if fault["how"] == "exit":
                    os._exit(1)
                raise RuntimeError(f"the pole snapped on step {self.steps}")
        return self.env.step(action)


def _config(tmp_path: Path, faults: list[tuple[int, int, str]], once=True, **extra) -> dict:
    return {
        **TINY_CONFIG,
        "env": FlakyCartPole,
        "env_config": {
            "faults": [
                {
                    "worker": w,
                    "step": n,
                    "how": how,
                    "marker": str(tmp_path / f"fault{i}") if once else None,
                }
                for i, (w, n, how) in enumerate(faults)
            ]
        },
        "num_workers": 2,
        "num_envs_per_worker": 1,
        **extra,
    }


@pytest.mark.parametrize("trainer_cls", [A2CTrainer, A3CTrainer])
def test_recreated_workers_train_to_the_stop_criterion(ray_session, tmp_path, trainer_cls):
    config = _config(
        tmp_path,
        [(1, 40, "raise"), (2, 70, "exit")],
        recreate_failed_workers=True,
        optimizer={"grads_per_step": 4} if trainer_cls is A3CTrainer else {},
    )
    trainer = trainer_cls(config=config, logdir=str(tmp_path / "run"))
    try:
        totals = []
        while not totals or totals[-1] < 600:
            result = trainer.train()
            totals.append(result["timesteps_total"])
        assert (tmp_path / "fault0").exists() and (tmp_path / "fault1").exists()
        assert result["num_healthy_workers"] == 2
        assert result["num_remote_worker_restarts"] == 2
        assert totals == sorted(totals) and result["training_iteration"] == len(totals)
        local = trainer.get_weights()["default_policy"]
        for weights in trainer.workers.foreach_worker(lambda w: w.get_weights())[1:]:
            assert set(weights["default_policy"]) == set(local)
        assert trainer.workers.foreach_worker_with_index(lambda w, i: (i, w.worker_index)) == [
            (0, 0),
            (1, 1),
            (2, 2),
        ]
    finally:
        trainer.stop()


def test_a_worker_that_always_fails_is_recreated_a_limited_number_of_times(ray_session, tmp_path):
    config = _config(
        tmp_path,
        [(1, 20, "raise")],
        once=False,
        recreate_failed_workers=True,
        max_num_worker_restarts=1,
    )
    trainer = A2CTrainer(config=config, logdir=str(tmp_path / "run"))
    try:
        with pytest.raises(
            WorkerError,
            match=r"^remote rollout worker 1 failed: RuntimeError: the pole snapped on step 20 "
            r"\(not recreated: max_num_worker_restarts=1 replacements were started already\)\.$",
        ):
            for _ in range(10):
                trainer.train()
        assert trainer.workers.num_restarts == 1
    finally:
        trainer.stop()


def test_ignored_failure_carries_on_with_the_healthy_worker(ray_session, tmp_path):
    config = _config(tmp_path, [(2, 40, "raise")], ignore_worker_failures=True)
    trainer = A2CTrainer(config=config, logdir=str(tmp_path / "run"))
    try:
        healthy = [trainer.train()["num_healthy_workers"] for _ in range(4)]
        assert healthy[0] == 2 and healthy[-1] == 1
        assert trainer.train()["timesteps_total"] > 4 * 64
    finally:
        trainer.stop()


@pytest.mark.parametrize(
    ("trainer_cls", "how", "message"),
    [
        (
            A2CTrainer,
            "raise",
            r"^remote rollout worker 2 failed: RuntimeError: the pole snapped on step 40$",
        ),
        (A3CTrainer, "exit", r"^remote rollout worker 2 failed: its process died \(\w+\)$"),
    ],
)
def test_without_fault_tolerance_training_stops_with_one_line(
    ray_session, tmp_path, trainer_cls, how, message
):
    config = _config(tmp_path, [(2, 40, how)], optimizer={"grads_per_step": 1})
    if trainer_cls is A2CTrainer:
        config["optimizer"] = {}
    trainer = trainer_cls(config=config, logdir=str(tmp_path / "run"))
    try:
        trainer.train()
        checkpoint = trainer.save()
        saved = trainer.get_weights()["default_policy"]
        iteration = trainer.iteration
        with pytest.raises(WorkerError, match=message):
            for _ in range(20):
                trainer.train()
    finally:
        trainer.stop()
    # the fault has happened (its marker exists): the same env now runs cleanly
    again = trainer_cls(config={**config, "num_workers": 1}, logdir=str(tmp_path / "again"))
    try:
        again.restore(checkpoint)
        assert again.iteration == iteration
        for key, value in again.get_weights()["default_policy"].items():
            np.testing.assert_array_equal(value, saved[key])
    finally:
        again.stop()
