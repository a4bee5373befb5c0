"""Learning from logs, at the smallest scale that shows it: a PPO CartPole run writes its
experiences until it reaches a mean return of 450; MARWIL trained only from those files
then plays CartPole greedily for a mean return of at least 400."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugrl.testing import train_until, tuned_example
from plugrl_marwil import MARWILTrainer

PLUGINS = Path(__file__).parents[1] / "plugins"


@pytest.mark.learning
def test_marwil_learns_cartpole_from_a_ppo_runs_files(tmp_path):
    data = tmp_path / "ppo-out"
    ppo_class, ppo_config = tuned_example(
        PLUGINS / "ppo/src/plugrl_ppo/tuned_examples/cartpole-ppo.yaml", output=str(data), seed=0
    )
    ppo = ppo_class(config=ppo_config, logdir=str(tmp_path / "ppo"))
    try:
        assert train_until(ppo, 450, 300_000)["episode_reward_mean"] >= 450
    finally:
        ppo.stop()

    _, config = tuned_example(
        PLUGINS / "marwil/src/plugrl_marwil/tuned_examples/cartpole-marwil.yaml",
        input=str(data),
        seed=0,
    )
    marwil = MARWILTrainer(config=config, logdir=str(tmp_path / "marwil"))
    evaluations = []
    try:
        while len(evaluations) < 30 and max(evaluations, default=0) < 400:
            evaluation = marwil.train().get("evaluation")
            if evaluation:
                evaluations.append(evaluation["episode_reward_mean"])
    finally:
        marwil.stop()
    assert max(evaluations) >= 400, evaluations
