"""One seeded learning run: the tuned DQN example reaches 150 on CartPole-v1 within 50k steps."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import plugrl_dqn
from plugrl.testing import train_until, tuned_example

TUNED = Path(plugrl_dqn.__file__).parent / "tuned_examples" / "cartpole-dqn.yaml"


@pytest.mark.learning
def test_dqn_learns_cartpole(tmp_path):
    trainer_class, config = tuned_example(TUNED, seed=0)
    trainer = trainer_class(config=config, logdir=str(tmp_path))
    start = time.time()
    try:
        result = train_until(trainer, 150, 50_000)
    finally:
        trainer.stop()
    assert result["episode_reward_mean"] >= 150, (
        f"episode_reward_mean {result['episode_reward_mean']:.1f} after "
        f"{result['timesteps_total']} steps ({time.time() - start:.0f}s)"
    )
