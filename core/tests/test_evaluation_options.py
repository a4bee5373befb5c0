"""The seeds' evaluation options: evaluation_duration and its unit split across evaluation
workers, evaluation in parallel to training (and "auto"), asynchronous evaluation around a
failed or stuck worker, with custom_eval_function and the evaluate callbacks."""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from plugrl import ConfigError, DefaultCallbacks
from plugrl.testing import local_ray
from plugrl.trainer.evaluation import DurationPlan
from plugrl_pg import PGTrainer
from plugrl_pg.testing import TINY_CONFIG


def weights_sum(weights: dict) -> float:
    return float(sum(np.sum(np.asarray(v, dtype=np.float64)) for v in weights.values()))


class WeightsSeen(DefaultCallbacks):
    """Evaluation episodes report the sum of the weights they were played with."""

    def on_episode_end(self, *, worker, episode, **kwargs):
        if worker.config["in_evaluation"]:
            episode.custom_metrics["weights_sum"] = weights_sum(worker.get_policy().get_weights())


class FaultyCartPole(gym.Env):
    """CartPole; on the evaluation worker ``env_config["bad_worker"]`` its step() raises
    (``fault: "raise"``) or hangs (``fault: "hang"``) a few steps into the first episode; with
    ``once: PATH`` it raises only where PATH does not exist yet (and creates it)."""

    def __init__(self, ctx):
        self.env = gym.make("CartPole-v1")
        self.observation_space = self.env.observation_space
        self.action_space = self.env.action_space
        self.fault = ctx.get("fault") if ctx.worker_index == ctx.get("bad_worker") else None
        self.ctx = dict(ctx)
        self.steps = 0

    def reset(self, *, seed=None, options=None):
        return self.env.reset(seed=seed)

    def step(self, action):
        self.steps += 1
        if self.fault and self.steps > 5:
            if self.fault == "hang":
                time.sleep(120)
            once = self.ctx.get("once")
            if not once or not Path(once).exists():
                if once:
                    Path(once).touch()
                raise RuntimeError("the pole snapped")
        return self.env.step(action)


def pg(tmp_path: Path, **config) -> PGTrainer:
    return PGTrainer(
        config={**TINY_CONFIG, "evaluation_interval": 1, **config}, logdir=str(tmp_path)
    )


# --- the plan ----------------------------------------------------------------------------------


def test_duration_is_split_as_the_seed_says():
    episodes = DurationPlan("episodes", 10, 7)
    assert episodes.shares(7) == [2, 2, 2, 1, 1, 1, 1]  # 1 each, then 3 more on workers 1-3
    assert episodes.shares(0) == [10]  # the local worker runs it all
    timesteps = DurationPlan("timesteps", 200, 3)
    assert timesteps.shares(3) == [67, 67, 67]  # rounded up: 201
    assert timesteps.worker_overrides(num_envs_per_worker=2) == {
        "batch_mode": "truncate_episodes",
        "rollout_fragment_length": 34,
    }
    legacy = {
        **PGTrainer._template["default_config"],
        "evaluation_num_episodes": 4,
        "evaluation_duration_unit": "timesteps",
    }
    plan = DurationPlan.from_config(legacy)  # the older name means N episodes
    assert (plan.unit, plan.total) == ("episodes", 4)


def test_auto_without_parallel_is_a_one_line_error(tmp_path):
    with pytest.raises(ConfigError, match="needs evaluation_parallel_to_training") as info:
        pg(tmp_path, evaluation_duration="auto")
    assert "\n" not in str(info.value)


# --- in the driver (no evaluation workers) ----------------------------------------------------


@pytest.mark.parametrize(
    ("options", "unit", "units"),
    [
        ({"evaluation_duration": 3}, "episodes", 3),
        ({"evaluation_num_episodes": 2, "evaluation_duration": 7}, "episodes", 2),
        ({"evaluation_duration": 50, "evaluation_duration_unit": "timesteps"}, "timesteps", 50),
    ],
    ids=["episodes", "legacy-num-episodes", "timesteps"],
)
def test_the_local_evaluation_worker_runs_the_whole_duration(tmp_path, options, unit, units):
    trainer = pg(tmp_path, **options)
    try:
        evaluation = trainer.train()["evaluation"]
    finally:
        trainer.stop()
    assert evaluation["duration_unit"] == unit
    assert evaluation["units_per_worker"] == {"0": units}
    if unit == "episodes":
        assert evaluation["episodes_this_iter"] == units
        assert evaluation["timesteps_this_iter"] == sum(evaluation["hist_stats"]["episode_lengths"])
    else:
        assert evaluation["timesteps_this_iter"] == units
    assert {"episode_reward_mean", "episode_len_mean", "custom_metrics"} <= set(evaluation)


@pytest.mark.parametrize("parallel", [False, True], ids=["after-training", "parallel"])
def test_which_weights_evaluation_uses(tmp_path, parallel):
    """After training: eval(n) uses the weights of train(n-1 -> n). In parallel:
    train(n-1 -> n) + eval(n-1), the weights from before the training step."""
    trainer = pg(
        tmp_path,
        callbacks=WeightsSeen,
        evaluation_duration=2,
        evaluation_parallel_to_training=parallel,
    )
    try:
        sums = [weights_sum(trainer.get_weights()["default_policy"])]
        seen = []
        for _ in range(3):
            evaluation = trainer.train()["evaluation"]
            sums.append(weights_sum(trainer.get_weights()["default_policy"]))
            seen.append((evaluation["weights_iteration"], evaluation["custom_metrics"]))
    finally:
        trainer.stop()
    assert len(set(sums)) == 4  # every iteration changed the weights
    for n, (weights_iteration, custom) in enumerate(seen, start=1):
        expected = n - 1 if parallel else n
        assert weights_iteration == expected
        assert custom["weights_sum_min"] == pytest.approx(sums[expected])
        assert custom["weights_sum_max"] == pytest.approx(sums[expected])


def test_auto_evaluates_while_the_training_step_runs(tmp_path):
    trainer = pg(
        tmp_path,
        min_iter_time_s=0.5,
        evaluation_duration="auto",
        evaluation_duration_unit="timesteps",
        evaluation_parallel_to_training=True,
    )
    try:
        for _ in range(2):
            start = time.monotonic()
            result = trainer.train()
            took = time.monotonic() - start
            evaluation = result["evaluation"]
            # rounds of one sample() call (32 steps x 2 envs) until the step had finished
            assert evaluation["timesteps_this_iter"] >= 64
            assert evaluation["timesteps_this_iter"] % 64 == 0
            assert took < 0.5 + 3.0
    finally:
        trainer.stop()


class RecordThreads(DefaultCallbacks):
    calls: list = []

    def on_evaluate_start(self, *, trainer, **kwargs):
        RecordThreads.calls.append(("start", threading.current_thread().name))

    def on_evaluate_end(self, *, evaluation_metrics, **kwargs):
        RecordThreads.calls.append(("end", threading.current_thread().name, evaluation_metrics))


def test_custom_eval_function_runs_in_the_evaluation_thread_callbacks_on_the_trainers(tmp_path):
    ran = []

    def custom_eval(trainer, eval_workers):
        ran.append(threading.current_thread().name)
        eval_workers.local_worker().sample()
        return {"my_metric": len(eval_workers.local_worker().get_metrics()) + 0.5}

    RecordThreads.calls = []
    trainer = pg(
        tmp_path,
        callbacks=RecordThreads,
        custom_eval_function=custom_eval,
        evaluation_parallel_to_training=True,
    )
    try:
        result = trainer.train()
    finally:
        trainer.stop()
    main = threading.main_thread().name
    assert ran == ["plugrl-evaluation"]
    assert set(result["evaluation"]) == {"my_metric"}
    assert result["evaluation"]["my_metric"] % 1 == 0.5  # what custom_eval returned
    assert RecordThreads.calls == [("start", main), ("end", main, result["evaluation"])]


# --- on Ray evaluation workers ----------------------------------------------------------------


@pytest.fixture(scope="module")
def ray_session():
    pytest.importorskip("ray")
    with local_ray(sys.modules[__name__], num_cpus=4) as ray:  # FaultyCartPole goes by value
        yield ray


@pytest.mark.ray
@pytest.mark.parametrize(
    ("workers", "unit", "duration", "expected"),
    [
        (1, "timesteps", 101, {"1": 101}),
        (2, "timesteps", 201, {"1": 101, "2": 101}),
        (2, "episodes", 3, {"1": 2, "2": 1}),
    ],
    ids=["1-worker-timesteps", "2-workers-timesteps-rounded-up", "2-workers-episodes"],
)
def test_duration_across_evaluation_workers(
    ray_session, tmp_path, workers, unit, duration, expected
):
    trainer = pg(
        tmp_path,
        evaluation_num_workers=workers,
        evaluation_duration=duration,
        evaluation_duration_unit=unit,
        evaluation_config={"num_envs_per_worker": 1},
    )
    try:
        evaluation = trainer.train()["evaluation"]
    finally:
        trainer.stop()
    assert evaluation["units_per_worker"] == expected
    assert evaluation["num_healthy_workers"] == workers
    if unit == "timesteps":
        assert evaluation["timesteps_this_iter"] == sum(expected.values())
    else:
        assert evaluation["episodes_this_iter"] == duration


@pytest.mark.ray
@pytest.mark.parametrize("recreate", [False, True], ids=["dropped", "recreated"])
def test_async_evaluation_around_a_failed_worker(ray_session, tmp_path, caplog, recreate):
    """Worker 2's env raises: without recreate_failed_workers it is dropped with a warning and
    worker 1 covers its share; with it, a replacement (whose env works) takes part."""
    env_config = {"bad_worker": 2, "fault": "raise"}
    if recreate:
        env_config["once"] = str(tmp_path / "snapped")
    trainer = pg(
        tmp_path,
        env=FaultyCartPole,
        env_config=env_config,
        evaluation_num_workers=2,
        evaluation_duration=4,
        enable_async_evaluation=True,
        recreate_failed_workers=recreate,
    )
    try:
        with caplog.at_level(logging.WARNING, logger="plugrl"):
            first = trainer.train()["evaluation"]
        second = trainer.train()["evaluation"]
    finally:
        trainer.stop()
    assert "remote rollout worker 2 failed: RuntimeError: the pole snapped" in caplog.text
    assert first["num_failed_workers"] == 1
    assert first["episodes_this_iter"] == sum(first["units_per_worker"].values()) == 4
    assert second["num_failed_workers"] == 0
    if recreate:
        assert "starting a replacement" in caplog.text
        assert first["num_healthy_workers"] == 2
        assert second["units_per_worker"] == {"1": 2, "2": 2}
    else:
        assert "carrying on with 1 remote workers" in caplog.text
        assert first["units_per_worker"] == second["units_per_worker"] == {"1": 4}
        assert first["num_healthy_workers"] == 1


@pytest.mark.ray
def test_async_evaluation_does_not_wait_for_a_stuck_worker(ray_session, tmp_path, caplog):
    trainer = pg(
        tmp_path,
        env=FaultyCartPole,
        env_config={"bad_worker": 2, "fault": "hang"},
        evaluation_num_workers=2,
        evaluation_duration=4,
        enable_async_evaluation=True,
        evaluation_sample_timeout_s=30.0,
        evaluation_parallel_to_training=True,  # the seed's example: parallel and async
    )
    try:
        for _ in range(2):
            start = time.monotonic()
            with caplog.at_level(logging.WARNING, logger="plugrl"):
                evaluation = trainer.train()["evaluation"]
            assert time.monotonic() - start < 15.0
            # worker 2 hangs in its env: worker 1 covered its share, in both iterations
            assert evaluation["units_per_worker"] == {"1": 4}
            assert evaluation["num_stuck_workers"] == 1
            assert evaluation["num_healthy_workers"] == 2
        assert caplog.text.count("remote rollout worker 2 is still busy") == 1
        # a round that runs out of time returns what came, with a warning
        trainer._evaluator.timeout_s = 0.001
        with caplog.at_level(logging.WARNING, logger="plugrl"):
            evaluation = trainer._evaluate()
        assert evaluation["episodes_this_iter"] < 4
        assert "stopped after evaluation_sample_timeout_s=0.001 s" in caplog.text
    finally:
        trainer.stop()
