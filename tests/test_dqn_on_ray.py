"""DQN with two Ray workers: replay from remote samples, Ape-X style per-worker epsilons."""

from __future__ import annotations

import pytest

from plugrl_dqn import DQNTrainer
from plugrl_dqn.testing import TINY_CONFIG


@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.ray
def test_dqn_with_per_worker_epsilons_on_two_workers(ray_session, tmp_path):
    config = {
        **TINY_CONFIG,
        "num_workers": 2,
        "exploration_config": {"type": "PerWorkerEpsilonGreedy"},
    }
    trainer = DQNTrainer(config=config, logdir=str(tmp_path))
    try:
        for _ in range(2):
            result = trainer.train()
        assert result["timesteps_total"] >= 200 and result["num_healthy_workers"] == 2
        assert result["info"]["num_steps_trained"] > 0
        epsilons = trainer.workers.foreach_worker(lambda w: w.get_policy().exploration.epsilon)
        assert epsilons == pytest.approx([0.0, 0.4, 0.4**8])
    finally:
        trainer.stop()
