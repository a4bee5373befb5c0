"""One seeded learning run: the tuned DQN example reaches 150 on CartPole-v1 within 50k steps."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

import plugrl_dqn
from plugrl_dqn import DQNTrainer

TUNED = Path(plugrl_dqn.__file__).parent / "tuned_examples" / "cartpole-dqn.yaml"


@pytest.mark.learning
def test_dqn_learns_cartpole(tmp_path):
    spec = next(iter(yaml.safe_load(TUNED.read_text()).values()))
    trainer = DQNTrainer(
        config={**spec["config"], "env": spec["env"], "seed": 0}, logdir=str(tmp_path)
    )
    start = time.time()
    try:
        while True:
            result = trainer.train()
            if result["episode_reward_mean"] >= 150 or result["timesteps_total"] >= 50_000:
                break
    finally:
        trainer.stop()
    assert result["episode_reward_mean"] >= 150, (
        f"episode_reward_mean {result['episode_reward_mean']:.1f} after "
        f"{result['timesteps_total']} steps ({time.time() - start:.0f}s)"
    )
