"""Evaluation during training: evaluation_interval, evaluation_config, the evaluate hooks."""

from __future__ import annotations

from plugrl import DefaultCallbacks
from plugrl_ppo import PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG


class RecordEvaluation(DefaultCallbacks):
    calls: list = []

    def on_evaluate_start(self, *, trainer, **kwargs):
        RecordEvaluation.calls.append(("start", trainer.iteration))

    def on_evaluate_end(self, *, evaluation_metrics, **kwargs):
        RecordEvaluation.calls.append(("end", evaluation_metrics["episodes_this_iter"]))


def test_evaluation_every_second_iteration_without_exploration(tmp_path):
    config = {
        **TINY_CONFIG,
        "observation_filter": "MeanStdFilter",
        "evaluation_interval": 2,
        "evaluation_num_episodes": 3,
        "evaluation_config": {"explore": False},
        "callbacks": RecordEvaluation,
    }
    trainer = PPOTrainer(config=config, logdir=str(tmp_path))
    first, second = trainer.train(), trainer.train()
    assert "evaluation" not in first
    evaluation = second["evaluation"]
    assert evaluation["episodes_this_iter"] == 3
    assert evaluation["episode_reward_mean"] > 0
    assert RecordEvaluation.calls == [("start", 2), ("end", 3)]
    eval_worker = trainer.evaluation_workers.local_worker()
    assert eval_worker.config["explore"] is False
    assert eval_worker.config["batch_mode"] == "complete_episodes"
    local_filter = trainer.workers.local_worker().filters["default_policy"]
    assert eval_worker.filters["default_policy"].rs.n >= local_filter.rs.n
    trainer.stop()
