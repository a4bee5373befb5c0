"""Run folders: named when a trainer is built, created only when it has something to write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plugrl.trainer.logdir import RESULTS_ROOT_ENV, new_logdir
from plugrl_ppo import PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG


@pytest.fixture
def results_root(tmp_path, monkeypatch):
    monkeypatch.setenv(RESULTS_ROOT_ENV, str(tmp_path))
    return tmp_path


def test_a_trainer_that_never_trains_leaves_no_folder(results_root):
    trainer = PPOTrainer(config=TINY_CONFIG)
    assert Path(trainer.logdir).parent == results_root / "default"
    trainer.stop()
    assert not any(results_root.iterdir())


def test_the_folder_appears_at_the_first_train(results_root):
    trainer = PPOTrainer(config=TINY_CONFIG)
    try:
        trainer.train()
        trainer.train()
    finally:
        trainer.stop()
    logdir = Path(trainer.logdir)
    assert json.loads((logdir / "params.json").read_text())["train_batch_size"] == 128
    assert len((logdir / "result.json").read_text().splitlines()) == 2
    assert (logdir / "progress.csv").exists()


def test_a_save_before_training_writes_the_params_too(results_root):
    trainer = PPOTrainer(config=TINY_CONFIG)
    try:
        checkpoint = Path(trainer.save())
    finally:
        trainer.stop()
    assert checkpoint.parent == Path(trainer.logdir)
    assert (checkpoint.parent / "params.json").exists()
    assert (checkpoint.parent / "result.json").read_text() == ""  # no result yet


def test_saving_elsewhere_does_not_create_the_run_folder(results_root, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("checkpoints")
    trainer = PPOTrainer(config=TINY_CONFIG)
    try:
        trainer.save(str(elsewhere))
    finally:
        trainer.stop()
    assert not any(results_root.iterdir())


def test_run_folders_started_together_differ(tmp_path):
    first, second = (new_logdir("PPO", "ALE/Pong-v5", str(tmp_path)) for _ in range(2))
    assert first != second
    assert first.parent == tmp_path / "default"
    assert first.name.startswith("PPO_ALE_Pong-v5_")
    assert not (tmp_path / "default").exists()
