"""A2C/A3C: the actor-critic loss, microbatching, config checks, determinism and one seeded
A2C learning run (the Ray-backed A3C optimizer is tested in test_async_gradients.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import plugrl_a3c
from plugrl import ConfigError, Postprocessing, SyncSamplesOptimizer, WorkerSet
from plugrl.env.creator import make_env_creator
from plugrl.testing import assert_learns
from plugrl_a3c import (
    A2C_DEFAULT_CONFIG,
    A2CTrainer,
    A3CTFPolicy,
    A3CTorchPolicy,
    A3CTrainer,
    MicrobatchOptimizer,
)
from plugrl_a3c.testing import TINY_CONFIG

TINY = TINY_CONFIG
TUNED = Path(plugrl_a3c.__file__).parent / "tuned_examples" / "cartpole-a2c.yaml"


def _workers(**config) -> WorkerSet:
    config = {**A2C_DEFAULT_CONFIG, **TINY, "num_workers": 0, **config}
    return WorkerSet(
        env_creator=make_env_creator("CartPole-v1"),
        policy=A3CTorchPolicy if config["framework"] == "torch" else A3CTFPolicy,
        trainer_config=config,
    )


def _logp(policy, batch, action: int) -> float:
    obs = torch.as_tensor(batch["obs"], dtype=torch.float32)
    with torch.no_grad():
        logits, _ = policy.model({"obs": obs}, [], None)
        dist = policy.dist_class(logits, policy.model)
        return float(dist.logp(torch.full((len(obs),), action)).mean())


def test_positive_advantages_make_their_action_likelier():
    worker = _workers(lr=0.01, entropy_coeff=0.0, vf_loss_coeff=0.0).local_worker()
    policy = worker.get_policy()
    batch = worker.sample()
    batch["actions"] = np.zeros(batch.count, np.int64)
    batch[Postprocessing.ADVANTAGES] = np.ones(batch.count, np.float32)
    before = _logp(policy, batch, 0)
    for _ in range(5):
        policy.learn_on_batch(batch)
    assert _logp(policy, batch, 0) > before + 0.05


def test_value_loss_falls_and_stats_are_reported():
    worker = _workers(lr=0.01).local_worker()
    policy = worker.get_policy()
    batch = worker.sample()
    losses = [policy.learn_on_batch(batch)["learner_stats"]["vf_loss"] for _ in range(20)]
    assert losses[-1] < 0.9 * losses[0], losses
    assert all(b < a for a, b in zip(losses[:-1], losses[1:], strict=True)), losses
    stats = policy.learn_on_batch(batch)["learner_stats"]
    assert {
        "cur_lr",
        "policy_loss",
        "policy_entropy",
        "vf_loss",
        "vf_explained_var",
        "grad_gnorm",
        "total_loss",
        "entropy_coeff",
    } <= set(stats)
    assert stats["cur_lr"] == pytest.approx(0.01)


@pytest.mark.parametrize("entropy_coeff", [0.0, 0.01])
def test_the_entropy_at_coefficient_0_is_computed_only_for_the_stats(entropy_coeff, monkeypatch):
    worker = _workers(entropy_coeff=entropy_coeff).local_worker()
    policy = worker.get_policy()
    batch = worker.sample()
    calls: list[int] = []
    entropy = policy.dist_class.entropy
    monkeypatch.setattr(policy.dist_class, "entropy", lambda d: calls.append(1) or entropy(d))
    train_batch = policy.backend.train_batch(batch)
    out = policy._loss_fn(policy, policy.model, policy.dist_class, train_batch)
    assert len(calls) == (1 if entropy_coeff else 0) and out.loss.requires_grad
    assert out.computed_stats()["policy_entropy"] > 0 and len(calls) == 1


def test_entropy_bonus_alone_raises_entropy():
    worker = _workers(lr=0.03, entropy_coeff=0.0, vf_loss_coeff=0.0).local_worker()
    policy = worker.get_policy()
    batch = worker.sample()
    batch["actions"] = np.zeros(batch.count, np.int64)
    batch[Postprocessing.ADVANTAGES] = np.ones(batch.count, np.float32)
    for _ in range(10):  # away from the uniform policy the net starts near
        low = policy.learn_on_batch(batch)["learner_stats"]["policy_entropy"]
    batch[Postprocessing.ADVANTAGES] = np.zeros(batch.count, np.float32)
    policy.entropy_coeff.set(1.0)
    for _ in range(30):  # (Adam's momentum first carries on downwards)
        high = policy.learn_on_batch(batch)["learner_stats"]["policy_entropy"]
    assert low < 0.6 and high > low + 0.05, (low, high)


def test_n_step_returns_without_gae():
    worker = _workers(use_gae=False).local_worker()
    batch = worker.sample()
    gamma = worker.config["gamma"]
    # within a cut fragment of one episode, targets follow r_t + gamma * target_{t+1}
    first = batch.split_by_episode()[0]
    targets, rewards = first[Postprocessing.VALUE_TARGETS], first["rewards"]
    np.testing.assert_allclose(targets[:-1], rewards[:-1] + gamma * targets[1:], rtol=1e-5)
    np.testing.assert_allclose(
        first[Postprocessing.ADVANTAGES], targets - first["vf_preds"], rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize(
    ("microbatch_size", "backend"),
    [
        (16, {}),
        (24, {}),  # 24 + 8 steps
        (24, {"framework": "tf2"}),  # eager
        (24, {"framework": "tf"}),  # traced
    ],
)
def test_microbatches_make_the_same_update_as_one_batch(microbatch_size, backend):
    whole, micro = (_workers(grad_clip=None, **backend) for _ in range(2))
    batch = whole.local_worker().sample()
    assert batch.count == 32
    initial = whole.local_worker().get_weights()["default_policy"]
    SyncSamplesOptimizer(whole, train_batch_size=32).learn(batch.copy())
    fetches = MicrobatchOptimizer(micro, 32, microbatch_size).learn(batch.copy())
    expected = whole.local_worker().get_weights()["default_policy"]
    got = micro.local_worker().get_weights()["default_policy"]
    assert any(not np.allclose(v, initial[k]) for k, v in expected.items())
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-4, atol=1e-6)
    assert np.isfinite(fetches["default_policy"]["total_loss"])


def test_a2c_trainer_with_microbatches(tmp_path):
    trainer = A2CTrainer(config={**TINY, "microbatch_size": 16}, logdir=str(tmp_path))
    try:
        assert isinstance(trainer.optimizer, MicrobatchOptimizer)
        result = trainer.train()
        assert result["timesteps_total"] == 64
        assert result["info"]["learner"]["default_policy"]["policy_entropy"] > 0
    finally:
        trainer.stop()


def test_seeded_a2c_repeats_exactly(tmp_path):
    weights = []
    for run in range(2):
        trainer = A2CTrainer(config=TINY, logdir=str(tmp_path / str(run)))
        try:
            for _ in range(3):
                trainer.train()
            weights.append(trainer.get_weights()["default_policy"])
        finally:
            trainer.stop()
    for key in weights[0]:
        np.testing.assert_array_equal(weights[0][key], weights[1][key])


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_adam_epsilon_sets_the_default_optimizers_epsilon(framework):
    policy = _workers(framework=framework, adam_epsilon=1e-3).local_worker().get_policy()
    (optimizer,) = policy.optimizers
    if framework == "torch":
        assert optimizer.param_groups[0]["eps"] == 1e-3
    else:
        assert optimizer.epsilon == 1e-3


@pytest.mark.parametrize(
    ("trainer", "overrides", "message"),
    [
        (A2CTrainer, {"entropy_coeff": -0.1}, "entropy_coeff"),
        (A2CTrainer, {"use_critic": False}, "use_critic"),
        (A2CTrainer, {"use_critic": False, "use_gae": False}, "truncate_episodes"),
        (A2CTrainer, {"microbatch_size": 0}, "microbatch_size"),
        (A2CTrainer, {"adam_epsilon": -1e-3}, "adam_epsilon"),
        (A2CTrainer, {"microbatch_size": 128}, r"microbatch_size \(128\) must be <="),
        (A3CTrainer, {"num_workers": 0}, "A3C .* needs num_workers >= 1"),
    ],
)
def test_config_errors(tmp_path, trainer, overrides, message):
    with pytest.raises(ConfigError, match=message):
        trainer(config={**TINY, **overrides}, logdir=str(tmp_path))


def test_algorithms_are_registered():
    from plugrl import get_trainer_class

    assert get_trainer_class("A2C") is A2CTrainer
    assert get_trainer_class("A3C") is A3CTrainer
    assert A2CTrainer.__name__ == "A2C" and issubclass(A2CTrainer, A3CTrainer)


# The example's settings pay off on the way to 450; to this test's 150, 8 envs with plain Adam
# at lr 1e-3 are quicker (seed 0 on torch: about 25k steps).
EARLY_LEARNING = {
    "num_envs_per_worker": 8,
    "train_batch_size": 40,
    "lr": 1e-3,
    "lr_schedule": [[0, 1e-3], [300_000, 0.0]],
    "adam_epsilon": 1e-8,
}


@pytest.mark.learning
@pytest.mark.parametrize(
    "framework, overrides",
    # on TF, one update and one round of bootstrap values per 80 steps (10 per env) rather
    # than per 40: each costs more there than on torch, and the test stays as short
    [("torch", {}), ("tf", {"rollout_fragment_length": 10, "train_batch_size": 80})],
    ids=["torch", "tf"],
)
def test_a2c_learns_cartpole(tmp_path, framework, overrides):
    config = {**EARLY_LEARNING, **overrides}
    assert_learns(TUNED, 150, 100_000, tmp_path, seed=0, framework=framework, **config)
