"""AsyncGradientsOptimizer on real Ray actors: every gradient is applied once, fresh weights go
back to the sender only, PPO customised with it trains, A3C (torch and TF) checkpoints
round-trip, and A3C with 2 workers trains CartPole to 150."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import yaml

import plugrl_a3c
from plugrl import ConfigError, Policy, WorkerSet
from plugrl.env.creator import make_env_creator
from plugrl_a3c import A3CTrainer, AsyncGradientsOptimizer
from plugrl_a3c.testing import TINY_CONFIG
from plugrl_ppo import PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG as PPO_TINY

pytestmark = pytest.mark.ray
TUNED = Path(plugrl_a3c.__file__).parent / "tuned_examples" / "cartpole-a3c.yaml"


class VersionPolicy(Policy):
    """Its weights are a version number the driver bumps per applied gradient; each gradient
    names its worker, its sequence number there and the version it was computed with."""

    def __init__(self, observation_space, action_space, config):
        super().__init__(observation_space, action_space, config)
        self.version = 0
        self.computed = 0
        self.applied: list[tuple[int, int, int]] = []

    def compute_actions(self, obs_batch, state_batches=None, *args, **kwargs):
        return np.array([self.action_space.sample() for _ in obs_batch]), [], {}

    def compute_gradients(self, batch):
        self.computed += 1
        grad = np.array([self.context.worker_index, self.computed, self.version])
        return [grad], {"learner_stats": {"version": self.version}}

    def apply_gradients(self, gradients):
        worker, seq, version = (int(x) for x in gradients[0])
        self.applied.append((worker, seq, version))
        self.version += 1

    def get_weights(self):
        return {"version": np.array(self.version)}

    def set_weights(self, weights):
        self.version = int(weights["version"])


def _workers(num_workers: int) -> WorkerSet:
    config = {**TINY_CONFIG, "num_workers": num_workers, "rollout_fragment_length": 8}
    return WorkerSet(
        env_creator=make_env_creator("CartPole-v1"),
        policy=VersionPolicy,
        trainer_config=config,
    )


def test_applies_every_gradient_once_and_weights_go_back_to_the_sender(ray_session):
    workers = _workers(2)
    try:
        optimizer = AsyncGradientsOptimizer(workers, grads_per_step=20)
        for _ in range(3):
            optimizer.step()
        applied = workers.local_worker().get_policy().applied
        assert len(applied) == 60
        assert optimizer.num_steps_sampled == 60 * 16  # 2 envs x 8 steps per gradient
        assert len(set(applied)) == 60  # no gradient applied twice
        by_worker = defaultdict(list)
        version_after = {}  # driver version once (worker, seq) was applied
        for version, (worker, seq, seen) in enumerate(applied, start=1):
            by_worker[worker].append(seq)
            version_after[worker, seq] = version
            if seq > 1:  # computed with the weights sent back after its previous gradient
                assert seen == version_after[worker, seq - 1], (worker, seq, seen)
        assert set(by_worker) == {1, 2}
        for seqs in by_worker.values():  # each worker's gradients, in order, none skipped
            assert seqs == list(range(1, len(seqs) + 1))
    finally:
        workers.stop()


def test_needs_remote_workers():
    workers = _workers(0)
    with pytest.raises(ConfigError, match="num_workers >= 1"):
        AsyncGradientsOptimizer(workers)


def make_async_optimizer(workers, config):
    return AsyncGradientsOptimizer(workers, grads_per_step=10)


def test_ppo_with_an_async_gradients_optimizer(ray_session, tmp_path):
    CustomTrainer = PPOTrainer.with_updates(make_policy_optimizer=make_async_optimizer)
    config = {**PPO_TINY, "num_workers": 2, "rollout_fragment_length": 16}
    trainer = CustomTrainer(config=config, logdir=str(tmp_path))
    try:
        before = trainer.get_weights()["default_policy"]
        result = trainer.train()
        assert isinstance(trainer.optimizer, AsyncGradientsOptimizer)
        assert result["timesteps_total"] == 10 * 32
        assert result["num_healthy_workers"] == 2
        assert "kl" in result["info"]["learner"]["default_policy"]
        after = trainer.get_weights()["default_policy"]
        assert any(not np.array_equal(before[k], after[k]) for k in before)
    finally:
        trainer.stop()


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_a3c_checkpoint_round_trip(ray_session, tmp_path, framework):
    config = {**TINY_CONFIG, "num_workers": 2, "optimizer": {"grads_per_step": 5}}
    trainer = A3CTrainer(config={**config, "framework": framework}, logdir=str(tmp_path))
    try:
        initial = trainer.get_weights()["default_policy"]
        trainer.train()
        assert trainer.get_policy().framework == framework
        path = trainer.save()
        saved = trainer.get_weights()["default_policy"]
        assert any(not np.array_equal(saved[k], initial[k]) for k in saved)
        trainer.train()
        trainer.restore(path)
        assert trainer.optimizer.num_steps_sampled == 5 * 32
        for key, value in trainer.get_weights()["default_policy"].items():
            np.testing.assert_array_equal(value, saved[key])
        result = trainer.train()  # in-flight gradients from before the restore are dropped
        assert result["timesteps_total"] == 10 * 32
    finally:
        trainer.stop()


@pytest.mark.learning
def test_a3c_learns_cartpole_with_two_workers(ray_session, tmp_path):
    spec = next(iter(yaml.safe_load(TUNED.read_text()).values()))
    config = {**spec["config"], "env": spec["env"], "seed": 0}
    assert config["num_workers"] == 2
    trainer = A3CTrainer(config=config, logdir=str(tmp_path))
    try:
        while True:
            result = trainer.train()
            if result["episode_reward_mean"] >= 150 or result["timesteps_total"] >= 200_000:
                break
    finally:
        trainer.stop()
    assert result["episode_reward_mean"] >= 150, (
        f"episode_reward_mean {result['episode_reward_mean']:.1f} after "
        f"{result['timesteps_total']} steps"
    )
