"""PPO with an LSTM learns StatelessCartPole (velocities hidden), which the same config
without the LSTM cannot: a seeded learning run each way, per framework."""

from __future__ import annotations

from pathlib import Path

import pytest

import plugrl_ppo
from plugrl.testing import assert_learns, train_until, tuned_example

TUNED = Path(plugrl_ppo.__file__).parent / "tuned_examples" / "stateless-cartpole-ppo-lstm.yaml"


@pytest.mark.learning
@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_ppo_lstm_learns_stateless_cartpole(tmp_path, framework):
    # seed 0: ~66k steps on torch, ~62k on TF
    assert_learns(TUNED, 150, 100_000, tmp_path, seed=0, framework=framework)


@pytest.mark.learning
@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_without_the_lstm_it_stays_far_below(tmp_path, framework):
    trainer_class, config = tuned_example(TUNED, seed=0, framework=framework)
    config["model"] = {**config["model"], "use_lstm": False}
    trainer = trainer_class(config=config, logdir=str(tmp_path))
    try:
        # as many steps as the LSTM needs to reach 150; without memory it levels off near 50
        result = train_until(trainer, 100, 66_000)
    finally:
        trainer.stop()
    assert result["timesteps_total"] >= 66_000
    assert result["episode_reward_mean"] < 100
