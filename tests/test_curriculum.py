"""Curriculum with env_task_fn: the level of every sub-env of the local worker and of a Ray
worker rises as the mean reward reaches the level's cap."""

from __future__ import annotations

import sys

import gymnasium as gym
import pytest

from plugrl import EnvError, TaskSettableEnv
from plugrl.sampling.curriculum import task_settable
from plugrl_pg import PGTrainer

STEPS_PER_LEVEL = 10


class CappedCartPole(TaskSettableEnv):
    """CartPole whose episodes end after ``STEPS_PER_LEVEL * level`` steps: the task is the
    level. Remembers the contexts ``env_task_fn`` was called with."""

    def __init__(self, env_config):
        self.env = gym.make("CartPole-v1")
        self.observation_space = self.env.observation_space
        self.action_space = self.env.action_space
        self.level = 1
        self.steps = 0
        self.seen = []

    def get_task(self):
        return self.level

    def set_task(self, task):
        self.level = task

    def reset(self, *, seed=None, options=None):
        self.steps = 0
        return self.env.reset(seed=seed)

    def step(self, action):
        self.steps += 1
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, terminated, truncated or self.steps >= self.cap, info

    @property
    def cap(self):
        return STEPS_PER_LEVEL * self.level


def next_level(train_results, task_settable_env, env_ctx):
    """One level up once episodes last 80% of what the level allows, on average."""
    task_settable_env.seen.append((env_ctx.worker_index, env_ctx.vector_index))
    level = task_settable_env.get_task()
    return (
        level + 1 if train_results["episode_reward_mean"] >= 0.8 * task_settable_env.cap else level
    )


CONFIG = {
    "env": CappedCartPole,
    "env_task_fn": next_level,
    "num_envs_per_worker": 2,
    "rollout_fragment_length": 100,
    "train_batch_size": 400,
    "metrics_smoothing_episodes": 20,
    "lr": 0.01,
    "model": {"fcnet_hiddens": [32]},
    "seed": 0,
}


def levels(trainer):
    return trainer.workers.foreach_worker(
        lambda worker: worker.foreach_env(lambda env: task_settable(env).get_task())
    )


def contexts(trainer):
    return trainer.workers.foreach_worker(
        lambda worker: worker.foreach_env(lambda env: task_settable(env).seen[-1])
    )


def check_curriculum(trainer, num_workers):
    previous = 1
    for _ in range(10):
        result = trainer.train()
        now = levels(trainer)
        # every sub-env of every worker has the task in the result
        assert result["env_tasks"] == {f"worker_{i}": tasks for i, tasks in enumerate(now)}
        assert {task for tasks in now for task in tasks} == {result["env_task"]}
        # the level rose exactly when the mean reward reached the previous level's cap
        reached = result["episode_reward_mean"] >= 0.8 * STEPS_PER_LEVEL * previous
        assert result["env_task"] == previous + reached
        previous = result["env_task"]
    assert previous >= 3, "the agent never got past level 2"
    expected = [[(i, 0), (i, 1)] for i in range(num_workers + 1)]
    assert contexts(trainer) == expected


def test_curriculum_on_the_local_worker(tmp_path):
    trainer = PGTrainer(config=CONFIG, logdir=str(tmp_path))
    try:
        check_curriculum(trainer, num_workers=0)
    finally:
        trainer.stop()


@pytest.fixture
def two_cpus():
    ray = pytest.importorskip("ray")
    import cloudpickle

    # test modules are imported by path, so Ray workers get this module's classes by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


@pytest.mark.ray
def test_curriculum_on_a_ray_worker(two_cpus, tmp_path):
    trainer = PGTrainer(config={**CONFIG, "num_workers": 1}, logdir=str(tmp_path))
    try:
        check_curriculum(trainer, num_workers=1)
    finally:
        trainer.stop()


class ClosingCartPole(gym.Wrapper):
    """CartPole that counts how many of its kind were closed."""

    closed = 0

    def __init__(self, env_config):
        super().__init__(gym.make("CartPole-v1"))

    def close(self):
        ClosingCartPole.closed += 1
        super().close()


def test_env_task_fn_needs_a_task_settable_env(tmp_path):
    ClosingCartPole.closed = 0
    with pytest.raises(EnvError, match="env_task_fn sets tasks on TaskSettableEnv envs, but"):
        PGTrainer(
            config={**CONFIG, "env": ClosingCartPole, "num_envs_per_worker": 2},
            logdir=str(tmp_path),
        )
    assert ClosingCartPole.closed == 2  # the trainer that failed stopped what it had built
