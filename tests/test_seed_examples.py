"""The classic RLlib-docs examples (seeds 000 and 001), ported by changing imports only.

Imports are the ported ones:
``ray.rllib.agents.trainer_template.build_trainer`` -> ``plugrl.build_trainer``,
``ray.rllib.agents.ppo`` -> ``plugrl_ppo``, ``build_torch_policy`` -> ``plugrl_torch``,
``ray.rllib.policy.tf_policy_template.build_tf_policy`` -> ``plugrl_tf``,
``WorkerSet``, ``SampleBatch``, ``compute_advantages, Postprocessing`` -> ``plugrl``.
"""

from __future__ import annotations

import sys

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
import torch

from plugrl import (
    Policy,
    Postprocessing,
    SampleBatch,
    SyncSamplesOptimizer,
    WorkerSet,
    build_trainer,
    compute_advantages,
)
from plugrl_ppo import PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG
from plugrl_tf import build_tf_policy
from plugrl_torch import build_torch_policy

TINY = TINY_CONFIG


# --- seed: a policy written from scratch -----------------------------------------------------


class CustomPolicy(Policy):
    """Example of a custom policy written from scratch."""

    def __init__(self, observation_space, action_space, config):
        Policy.__init__(self, observation_space, action_space, config)
        # example parameter
        self.w = 1.0

    def compute_actions(
        self,
        obs_batch,
        state_batches,
        prev_action_batch=None,
        prev_reward_batch=None,
        info_batch=None,
        episodes=None,
        **kwargs,
    ):
        # return action batch, RNN states, extra values to include in batch
        return [self.action_space.sample() for _ in obs_batch], [], {}

    def learn_on_batch(self, samples):
        # implement your learning code here
        self.w += 1.0  # (added: observable learning)
        return {}  # return stats

    def get_weights(self):
        return {"w": self.w}

    def set_weights(self, weights):
        self.w = weights["w"]


def test_custom_policy_from_scratch_in_build_trainer(tmp_path):
    MyTrainer = build_trainer(name="MyTrainer", default_policy=CustomPolicy)
    assert MyTrainer.__name__ == "MyTrainer"
    trainer = MyTrainer(
        config={"env": "CartPole-v1", "rollout_fragment_length": 50, "train_batch_size": 100},
        logdir=str(tmp_path),
    )
    try:
        result = trainer.train()
        assert result["training_iteration"] == 1
        assert result["timesteps_total"] == 100
        assert trainer.get_policy().w == 2.0
        assert trainer.get_weights() == {"default_policy": {"w": 2.0}}
    finally:
        trainer.stop()


# --- seed: a torch policy from a loss and a postprocessor ------------------------------------


def postprocess_advantages(policy, sample_batch, other_agent_batches=None, episode=None):
    return compute_advantages(
        sample_batch, 0.0, policy.config["gamma"], use_gae=False, use_critic=False
    )


def policy_gradient_loss(policy, model, dist_class, train_batch):
    logits, _ = model.from_batch(train_batch)
    action_dist = dist_class(logits, model)
    return -torch.mean(
        action_dist.logp(train_batch[SampleBatch.ACTIONS]) * train_batch[Postprocessing.ADVANTAGES]
    )


MyTorchPolicy = build_torch_policy(
    name="MyTorchPolicy", loss_fn=policy_gradient_loss, postprocess_fn=postprocess_advantages
)


def test_torch_policy_template_in_process(tmp_path):
    MyTrainer = build_trainer(name="MyCustomTrainer", default_policy=MyTorchPolicy)
    trainer = MyTrainer(config={**_no_ppo(TINY), "num_workers": 0}, logdir=str(tmp_path))
    try:
        before = trainer.get_weights()["default_policy"]
        trainer.train()
        after = trainer.get_weights()["default_policy"]
        assert type(trainer.get_policy()).__name__ == "MyTorchPolicy"
        assert any(not np.array_equal(before[k], after[k]) for k in before)
        # (5) trainer state via foreach_worker / foreach_worker_with_index
        got = trainer.workers.foreach_worker(lambda ev: ev.get_policy().get_weights())
        assert len(got) == 1 and set(got[0]) == set(after)
        idx = trainer.workers.foreach_worker_with_index(lambda ev, i: i)
        assert idx == [0]
    finally:
        trainer.stop()


def _no_ppo(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in ("sgd_minibatch_size", "num_sgd_iter")}


# --- seed: TF policies from a loss, then with a postprocessor ---------------------------------


def tf_reward_loss(policy, model, dist_class, train_batch):
    logits, _ = model.from_batch(train_batch)
    action_dist = dist_class(logits, model)
    return -tf.reduce_mean(action_dist.logp(train_batch["actions"]) * train_batch["rewards"])


# <class 'plugrl_tf.template.MyTFPolicy'> (the seed's first form: rewards as the signal)
MyRewardTFPolicy = build_tf_policy(name="MyTFPolicy", loss_fn=tf_reward_loss)


def tf_policy_gradient_loss(policy, model, dist_class, train_batch):
    logits, _ = model.from_batch(train_batch)
    action_dist = dist_class(logits, model)
    return -tf.reduce_mean(
        action_dist.logp(train_batch[SampleBatch.ACTIONS]) * train_batch[Postprocessing.ADVANTAGES]
    )


MyTFPolicy = build_tf_policy(
    name="MyTFPolicy", loss_fn=tf_policy_gradient_loss, postprocess_fn=postprocess_advantages
)


@pytest.mark.parametrize("policy", [MyRewardTFPolicy, MyTFPolicy])
def test_tf_policy_template_in_process(tmp_path, policy):
    MyTrainer = build_trainer(name="MyCustomTrainer", default_policy=policy)
    trainer = MyTrainer(config={**_no_ppo(TINY), "num_workers": 0}, logdir=str(tmp_path))
    try:
        before = trainer.get_weights()["default_policy"]
        result = trainer.train()
        after = trainer.get_weights()["default_policy"]
        assert type(trainer.get_policy()).__name__ == "MyTFPolicy"
        assert result["timesteps_total"] == 128
        assert any(not np.array_equal(before[k], after[k]) for k in before)
    finally:
        trainer.stop()


# --- seed: customising PPO's policy optimizer -------------------------------------------------


def make_sync_optimizer(workers, config):
    return SyncSamplesOptimizer(workers, train_batch_size=config["train_batch_size"])


def test_ppo_with_updates_make_policy_optimizer(tmp_path):
    CustomTrainer = PPOTrainer.with_updates(make_policy_optimizer=make_sync_optimizer)
    trainer = CustomTrainer(config=TINY, logdir=str(tmp_path))
    try:
        assert type(trainer.optimizer) is SyncSamplesOptimizer
        result = trainer.train()
        assert result["info"]["num_steps_trained"] == 128
    finally:
        trainer.stop()


# --- seed: curriculum learning through on_train_result ----------------------------------------


class CurriculumEnv(gym.Env):
    """CartPole with a set_phase() method, as in the curriculum example."""

    def __init__(self, env_config):
        self.env = gym.make("CartPole-v1")
        self.observation_space = self.env.observation_space
        self.action_space = self.env.action_space
        self.phase = 0

    def set_phase(self, phase):
        self.phase = phase

    def reset(self, *, seed=None, options=None):
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        return self.env.step(action)


def on_train_result(info):
    result = info["result"]
    if result["episode_reward_mean"] > 200:
        phase = 2
    elif result["episode_reward_mean"] > 1:  # (threshold lowered for a 1-iteration test)
        phase = 1
    else:
        phase = 0
    trainer = info["trainer"]
    trainer.workers.foreach_worker(lambda ev: ev.foreach_env(lambda env: env.set_phase(phase)))


def test_curriculum_via_callbacks(tmp_path):
    trainer = PPOTrainer(
        config={**TINY, "env": CurriculumEnv, "callbacks": {"on_train_result": on_train_result}},
        logdir=str(tmp_path),
    )
    try:
        assert trainer.workers.foreach_worker(lambda ev: ev.foreach_env(lambda e: e.phase)) == [
            [0, 0]
        ]
        trainer.train()
        phases = trainer.workers.foreach_worker(lambda ev: ev.foreach_env(lambda e: e.phase))
        assert phases == [[1, 1]]
    finally:
        trainer.stop()


def test_curriculum_between_train_calls(tmp_path):
    trainer = PPOTrainer(config=TINY, env=CurriculumEnv, logdir=str(tmp_path))
    try:
        trainer.train()
        phase = 2
        trainer.workers.foreach_worker(lambda ev: ev.foreach_env(lambda env: env.set_phase(phase)))
        assert trainer.workers.local_worker().foreach_env(lambda e: e.phase) == [2, 2]
    finally:
        trainer.stop()


# --- Ray: two remote workers ------------------------------------------------------------------


@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray")
    import cloudpickle

    # test modules are imported by path, so Ray workers get this module's classes by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


@pytest.mark.ray
def test_torch_policy_trainer_with_two_workers(ray_session, tmp_path):
    MyTrainer = build_trainer(name="MyCustomTrainer", default_policy=MyTorchPolicy)
    config = {**_no_ppo(TINY), "num_workers": 2, "num_envs_per_worker": 1}
    trainer = MyTrainer(config=config, logdir=str(tmp_path))
    try:
        for i in range(2):
            result = trainer.train()
            assert result["training_iteration"] == i + 1
        assert result["num_healthy_workers"] == 2
        assert result["timesteps_total"] == 2 * 128
        local = trainer.get_weights()["default_policy"]
        all_weights = trainer.workers.foreach_worker(lambda ev: ev.get_policy().get_weights())
        assert len(all_weights) == 3
        # remote workers got the weights of the last sync (before the last update), and
        # agree with each other
        for k in local:
            np.testing.assert_array_equal(all_weights[1][k], all_weights[2][k])
        trainer.workers.sync_weights()
        all_weights = trainer.workers.foreach_worker(lambda ev: ev.get_policy().get_weights())
        for w in all_weights[1:]:
            for k in local:
                np.testing.assert_array_equal(w[k], local[k])
        indices = trainer.workers.foreach_worker_with_index(lambda ev, i: (i, ev.worker_index))
        assert indices == [(0, 0), (1, 1), (2, 2)]
    finally:
        trainer.stop()


@pytest.mark.ray
def test_manual_loop_with_worker_set(ray_session):
    ray = ray_session
    # Setup policy and rollout workers
    env = gym.make("CartPole-v1")
    policy = MyTorchPolicy(env.observation_space, env.action_space, {})
    workers = WorkerSet(
        policy=MyTorchPolicy, env_creator=lambda c: gym.make("CartPole-v1"), num_workers=2
    )
    try:
        # Gather a batch of samples
        T1 = SampleBatch.concat_samples(
            ray.get([w.sample.remote() for w in workers.remote_workers()])
        )
        assert T1.count == 2 * 200  # default rollout_fragment_length
        assert Postprocessing.ADVANTAGES in T1

        # Improve the policy using the T1 batch
        before = policy.get_weights()
        policy.learn_on_batch(T1)
        after = policy.get_weights()
        assert any(not np.array_equal(before[k], after[k]) for k in before)

        # Broadcast weights to the policy evaluation workers
        weights = ray.put({"default_policy": policy.get_weights()})
        ray.get([w.set_weights.remote(weights) for w in workers.remote_workers()])
        remote = ray.get([w.get_weights.remote() for w in workers.remote_workers()])
        for r in remote:
            for k in after:
                np.testing.assert_array_equal(r["default_policy"][k], after[k])
    finally:
        workers.stop()


@pytest.mark.ray
def test_tf_policy_trainer_with_two_workers(ray_session, tmp_path):
    MyTrainer = build_trainer(name="MyCustomTrainer", default_policy=MyTFPolicy)
    config = {**_no_ppo(TINY), "num_workers": 2, "num_envs_per_worker": 1}
    trainer = MyTrainer(config=config, logdir=str(tmp_path))
    try:
        first = trainer.get_weights()["default_policy"]
        for i in range(2):
            result = trainer.train()
            assert result["training_iteration"] == i + 1
        assert result["num_healthy_workers"] == 2
        assert result["timesteps_total"] == 2 * 128
        trainer.workers.sync_weights()
        local = trainer.get_weights()["default_policy"]
        assert any(not np.array_equal(first[k], local[k]) for k in local)
        names = trainer.workers.foreach_worker(lambda ev: type(ev.get_policy()).__name__)
        assert names == ["MyTFPolicy"] * 3
        for remote in trainer.workers.foreach_worker(lambda ev: ev.get_policy().get_weights())[1:]:
            for k in local:
                np.testing.assert_array_equal(remote[k], local[k])
    finally:
        trainer.stop()
