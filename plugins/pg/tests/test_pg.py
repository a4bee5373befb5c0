"""PG: registration, the loss and its stats on both frameworks, returns as advantages, and one
seeded learning run per framework (the tuned example)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import plugrl_pg
from plugrl import Postprocessing, get_trainer_class
from plugrl.testing import assert_learns, run_cli
from plugrl_pg import PGTrainer
from plugrl_pg.testing import TINY_CONFIG

TUNED = Path(plugrl_pg.__file__).parent / "tuned_examples" / "cartpole-pg.yaml"


def test_registered_as_pg(capsys):
    assert get_trainer_class("PG") is PGTrainer
    code, out, _ = run_cli(capsys, "plugins")
    assert code == 0 and "PG" in out


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_trains_and_reports_its_loss(tmp_path, framework):
    trainer = PGTrainer(config={**TINY_CONFIG, "framework": framework}, logdir=str(tmp_path))
    try:
        policy = trainer.get_policy()
        assert type(policy).__name__ == ("PGTorchPolicy" if framework == "torch" else "PGTFPolicy")
        before = policy.get_weights()
        result = trainer.train()
        after = policy.get_weights()
        assert any(not np.array_equal(before[k], after[k]) for k in before)
        stats = result["info"]["learner"]["default_policy"]
        assert {"total_loss", "policy_entropy", "cur_lr"} <= set(stats)
        assert result["timesteps_total"] >= TINY_CONFIG["train_batch_size"]
    finally:
        trainer.stop()


def test_advantages_are_the_discounted_returns_of_whole_episodes(tmp_path):
    trainer = PGTrainer(config={**TINY_CONFIG, "gamma": 0.9}, logdir=str(tmp_path))
    try:
        batch = trainer.workers.local_worker().sample()
    finally:
        trainer.stop()
    for episode in batch.split_by_episode():
        assert episode["terminateds"][-1] or episode["truncateds"][-1]  # whole episodes
        returns = episode[Postprocessing.ADVANTAGES]
        np.testing.assert_allclose(
            returns[:-1], episode["rewards"][:-1] + 0.9 * returns[1:], rtol=1e-5
        )
        assert returns[-1] == pytest.approx(episode["rewards"][-1])


@pytest.mark.learning
@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_pg_learns_cartpole(tmp_path, framework):
    assert_learns(TUNED, 150, 100_000, tmp_path, seed=0, framework=framework)
