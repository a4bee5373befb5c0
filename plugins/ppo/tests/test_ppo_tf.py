"""PPO on the TF backend: training, coefficients a traced loss reads, checkpoints (its learning
run is in test_ppo.py, beside torch's)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import plugrl_ppo
from plugrl import RolloutWorker, plugins
from plugrl.env.creator import make_env_creator
from plugrl.errors import PluginError
from plugrl.policy.policy import learner_stats, mean_stats
from plugrl.testing import assert_same_updates
from plugrl_ppo import DEFAULT_CONFIG, PPOTFPolicy, PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG

TUNED = Path(plugrl_ppo.__file__).parent / "tuned_examples" / "cartpole-ppo.yaml"


def _worker(**config) -> RolloutWorker:
    return RolloutWorker(
        make_env_creator("CartPole-v1"),
        PPOTFPolicy,
        {
            **DEFAULT_CONFIG,
            "framework": "tf",
            "model": {"fcnet_hiddens": [16]},
            "seed": 1,
            "num_envs_per_worker": 2,
            "rollout_fragment_length": 64,
            **config,
        },
    )


@pytest.mark.parametrize("framework", ["tf", "tf2"])
def test_trainer_picks_the_tf_policy_and_trains(tmp_path, framework):
    trainer = PPOTrainer(config={**TINY_CONFIG, "framework": framework}, logdir=str(tmp_path))
    try:
        assert type(trainer.get_policy()).__name__ == "PPOTFPolicy"
        result = trainer.train()
        stats = result["info"]["learner"]["default_policy"]
        assert {"policy_loss", "vf_loss", "kl", "entropy", "cur_kl_coeff", "cur_lr"} <= set(stats)
        assert all(isinstance(v, float) for v in stats.values())
        assert result["timesteps_total"] == 128
    finally:
        trainer.stop()


def test_without_plugrl_tf_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PLUGRL_PLUGINS", "ppo,torch,exploration")
    plugins.reset()
    try:
        with pytest.raises(PluginError, match=r"framework 'tf'.*installed but not loaded"):
            PPOTrainer(config={**TINY_CONFIG, "framework": "tf"}, logdir=str(tmp_path))
        monkeypatch.setattr(
            "plugrl.registry._installed", lambda distribution: False
        )  # bare machine
        with pytest.raises(PluginError, match=r"framework 'tf'.*pip install plugrl-tf"):
            PPOTrainer(config={**TINY_CONFIG, "framework": "tf"}, logdir=str(tmp_path))
    finally:
        monkeypatch.undo()
        plugins.reset()


@pytest.mark.parametrize("tracing", [False, True])
def test_loss_decreases_on_a_fixed_batch(tracing):
    w = _worker(lr=0.01, eager_tracing=tracing)
    batch = w.sample()
    policy = w.get_policy()
    losses = [policy.learn_on_batch(batch.copy())["learner_stats"]["total_loss"] for _ in range(30)]
    assert losses[-1] < 0.9 * losses[0], losses
    stats = policy.learn_on_batch(batch.copy())["learner_stats"]
    assert stats["cur_lr"] == pytest.approx(0.01) and stats["kl"] > 0


@pytest.mark.parametrize("tracing", [False, True])
def test_epochs_report_the_last_epoch_and_update_as_one_step_per_minibatch(tracing):
    w = _worker(eager_tracing=tracing)
    batch = w.sample()
    policy = w.get_policy()
    rows = [r for _ in range(2) for r in batch.minibatch_rows(64, np.random.default_rng(0))]
    start = policy.get_state()
    stats = policy.learn_on_minibatches(batch, rows, stats_of_last=2)
    weights = policy.get_weights()
    policy.set_state(start)
    updates = [learner_stats(policy.learn_on_batch(batch.take(r))) for r in rows]
    assert_same_updates(policy, weights, stats, mean_stats(updates[2:]))
    if tracing:  # the updates not reported run the reported step's graph
        assert [k for k in policy.backend.traced if "learn" in k] == ["_learn_step"]


def test_traced_loss_reads_the_current_coefficients():
    w = _worker(eager_tracing=True, kl_coeff=0.0, entropy_coeff=0.0)
    batch = w.sample()
    policy = w.get_policy()
    _, info = policy.compute_gradients(batch)  # traced with both coefficients at 0
    before = info["learner_stats"]
    policy.entropy_coeff.set(0.5)
    policy.kl_coeff.set(2.0)
    _, info = policy.compute_gradients(batch)
    after = info["learner_stats"]
    assert after["entropy_coeff"] == pytest.approx(0.5) and after["cur_kl_coeff"] == 2.0
    expected = before["total_loss"] - 0.5 * before["entropy"] + 2.0 * before["kl"]
    assert after["total_loss"] == pytest.approx(expected, rel=1e-5, abs=1e-6)
    traced = policy.backend.traced["_gradients_and_stats"]
    assert traced.experimental_get_tracing_count() <= 2


def test_kl_coeff_adapts_and_is_saved_as_a_float():
    policy = _worker(eager_tracing=True).get_policy()
    assert policy.kl_coeff.update(1.0) == pytest.approx(0.3)
    state = policy.get_state()
    assert state["kl_coeff"] == pytest.approx(0.3) and isinstance(state["kl_coeff"], float)


def test_checkpoint_restores_weights_optimizer_and_coefficients(tmp_path):
    config = {**TINY_CONFIG, "framework": "tf", "eager_tracing": True}
    trainer = PPOTrainer(config=config, logdir=str(tmp_path / "a"))
    restored = PPOTrainer(config={**config, "seed": 5}, logdir=str(tmp_path / "b"))
    try:
        trainer.train()
        path = trainer.save(str(tmp_path / "ckpt"))
        restored.restore(path)
        policy, other = trainer.get_policy(), restored.get_policy()
        for name, value in policy.get_weights().items():
            np.testing.assert_array_equal(value, other.get_weights()[name])
        saved, loaded = (p.get_state()["optimizer_state"] for p in (policy, other))
        assert saved["framework"] == loaded["framework"] == "tf"
        for mine, theirs in zip(saved["optimizers"][0], loaded["optimizers"][0], strict=True):
            np.testing.assert_array_equal(mine, theirs)
        assert float(other.kl_coeff) == pytest.approx(float(policy.kl_coeff))
        assert restored.train()["timesteps_total"] == 256
    finally:
        trainer.stop()
        restored.stop()
