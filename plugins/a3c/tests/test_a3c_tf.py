"""A2C/A3C on the TF backend: the trainer's policy and its stats, coefficients a traced loss
reads, and a star-import without TF (parity with torch: tests/test_tf_torch_parity.py;
microbatches: test_a3c.py; A3C on Ray workers: test_async_gradients.py)."""

from __future__ import annotations

import numpy as np
import pytest

from plugrl import WorkerSet
from plugrl.env.creator import make_env_creator
from plugrl_a3c import A2C_DEFAULT_CONFIG, A2CTrainer, A3CTFPolicy
from plugrl_a3c.testing import TINY_CONFIG


def _workers(**config) -> WorkerSet:
    return WorkerSet(
        env_creator=make_env_creator("CartPole-v1"),
        policy=A3CTFPolicy,
        trainer_config={**A2C_DEFAULT_CONFIG, **TINY_CONFIG, "framework": "tf", **config},
    )


def _learner_stats(tmp_path, framework: str) -> dict:
    trainer = A2CTrainer(config={**TINY_CONFIG, "framework": framework}, logdir=str(tmp_path))
    try:
        assert trainer.get_policy().framework == framework.rstrip("2")  # tf2 is tf
        return trainer.train()["info"]["learner"]["default_policy"]
    finally:
        trainer.stop()


def test_trainer_picks_the_tf_policy_and_reports_torchs_stats(tmp_path):
    stats = _learner_stats(tmp_path / "tf", "tf2")  # "tf" in test_tf_torch_parity.py
    torch_stats = _learner_stats(tmp_path / "torch", "torch")
    assert set(stats) == set(torch_stats)
    assert {"cur_lr", "policy_loss", "policy_entropy", "vf_loss", "grad_gnorm"} <= set(stats)
    assert "vf_explained_var" in stats
    assert all(np.isfinite(float(v)) for v in stats.values()), stats


def test_traced_loss_reads_the_current_coefficients():
    worker = _workers(
        eager_tracing=True, entropy_coeff=0.0, lr_schedule=[[0, 0.01], [1000, 0.001]]
    ).local_worker()
    policy = worker.get_policy()
    batch = worker.sample()
    policy.compute_gradients(batch)  # traced with 0 and 0.01 (retraced once: fewer columns)
    before = policy.compute_gradients(batch)[1]["learner_stats"]
    assert before["cur_lr"] == pytest.approx(0.01)
    traces = policy.backend.traced["_gradients_and_stats"].experimental_get_tracing_count()
    policy.entropy_coeff.set(0.5)
    worker.set_global_vars({"timestep": 500})
    after = policy.compute_gradients(batch)[1]["learner_stats"]
    assert after["entropy_coeff"] == pytest.approx(0.5)
    assert after["cur_lr"] == pytest.approx(0.0055)
    assert float(policy.optimizers[0].learning_rate) == pytest.approx(0.0055)
    expected = before["total_loss"] - 0.5 * before["policy_entropy"]
    assert after["total_loss"] == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert policy.backend.traced["_gradients_and_stats"].experimental_get_tracing_count() == traces
