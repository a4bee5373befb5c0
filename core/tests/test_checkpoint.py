"""Checkpoints: round trips (counters, weights, optimizer state), errors, no pickle, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from plugrl import CheckpointError
from plugrl.checkpoint import ARRAYS_FILE, STATE_FILE, read_state, write_state
from plugrl_ppo import PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG

TINY = {**TINY_CONFIG, "seed": 3}


@pytest.fixture
def trainer(tmp_path):
    t = PPOTrainer(config=TINY, logdir=str(tmp_path / "run"))
    yield t
    t.stop()


def _assert_weights_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_write_read_state_round_trip(tmp_path):
    state = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": [1, {"c": np.int64(4)}],
        "s": "x",
        "n": None,
    }
    path = write_state(tmp_path / "ckpt", state)
    out = read_state(path)
    np.testing.assert_array_equal(out["a"], state["a"])
    assert out["a"].dtype == np.float32
    assert out["b"] == [1, {"c": 4}] and out["s"] == "x" and out["n"] is None
    # overwriting keeps one complete folder and no temporaries
    write_state(tmp_path / "ckpt", {"a": np.zeros(1)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_trainer_save_restore_round_trip(trainer, tmp_path):
    trainer.train()
    trainer.train()
    path = trainer.save(str(tmp_path / "ckpts"))
    assert Path(path).name == "checkpoint_000002"
    saved_weights = trainer.get_weights()["default_policy"]
    saved_opt = trainer.get_policy().optimizers[0].state_dict()

    fresh = PPOTrainer(config=TINY, logdir=str(tmp_path / "run2"))
    try:
        fresh.restore(path)
        _assert_weights_equal(fresh.get_weights()["default_policy"], saved_weights)
        opt = fresh.get_policy().optimizers[0].state_dict()
        assert opt["state"].keys() == saved_opt["state"].keys() and opt["state"]
        for idx, entries in saved_opt["state"].items():
            for key, value in entries.items():
                assert torch.equal(
                    torch.as_tensor(opt["state"][idx][key]), torch.as_tensor(value)
                ), (idx, key)
        result = fresh.train()
        assert result["training_iteration"] == 3
        assert result["timesteps_total"] == 3 * TINY["train_batch_size"]
        assert fresh.get_policy().global_timestep >= 2 * TINY["train_batch_size"]
    finally:
        fresh.stop()


def test_restored_trainer_trains_like_the_original(trainer, tmp_path):
    """Same weights, optimizer state and minibatch-order position aside, one update on the
    same batch from both trainers gives the same weights."""
    trainer.train()
    path = trainer.save(str(tmp_path / "ckpts"))
    fresh = PPOTrainer(config=TINY, logdir=str(tmp_path / "run2"))
    try:
        fresh.restore(path)
        batch = trainer.workers.local_worker().sample()
        for t in (trainer, fresh):
            t.get_policy().learn_on_batch(batch.copy())
        _assert_weights_equal(
            trainer.get_weights()["default_policy"], fresh.get_weights()["default_policy"]
        )
    finally:
        fresh.stop()


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        read_state(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="not a plugrl checkpoint"):
        read_state(tmp_path / "empty")


def test_missing_checkpoint_via_trainer(trainer, tmp_path):
    with pytest.raises(CheckpointError):
        trainer.restore(str(tmp_path / "checkpoint_000099"))


def test_corrupt_arrays_file(trainer, tmp_path):
    trainer.train()
    path = Path(trainer.save(str(tmp_path / "ckpts")))
    data = (path / ARRAYS_FILE).read_bytes()
    (path / ARRAYS_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt"):
        trainer.restore(str(path))


def test_missing_arrays_file(tmp_path):
    path = write_state(tmp_path / "c", {"a": np.zeros(2)})
    (path / ARRAYS_FILE).unlink()
    with pytest.raises(CheckpointError, match="corrupt or incomplete"):
        read_state(path)


def test_format_version_mismatch(tmp_path):
    path = write_state(tmp_path / "c", {"a": np.zeros(2)})
    payload = json.loads((path / STATE_FILE).read_text())
    payload["format_version"] = 999
    (path / STATE_FILE).write_text(json.dumps(payload))
    with pytest.raises(CheckpointError, match="format version 999"):
        read_state(path)


def test_arrays_load_without_pickle(tmp_path):
    path = write_state(tmp_path / "c", {"a": np.zeros(2)})
    # an object array can only be stored with pickle; loading must refuse it
    np.savez(path / ARRAYS_FILE, **{"/a": np.array([{"x": 1}, None], dtype=object)})
    with pytest.raises(CheckpointError):
        read_state(path)


def test_object_arrays_are_not_saved_silently(tmp_path):
    with pytest.raises((TypeError, ValueError)):
        write_state(tmp_path / "c", {"a": object()})


def test_determinism_same_seed(tmp_path):
    results, weights = [], []
    for i in range(2):
        t = PPOTrainer(config=TINY, logdir=str(tmp_path / f"r{i}"))
        try:
            results.append([t.train()["episode_reward_mean"] for _ in range(2)])
            weights.append(t.get_weights()["default_policy"])
        finally:
            t.stop()
    assert results[0] == results[1]
    _assert_weights_equal(weights[0], weights[1])


def test_checkpoint_of_another_model_size_is_refused_clearly(trainer, tmp_path):
    path = trainer.save(str(tmp_path / "ckpt"))
    bigger = PPOTrainer(
        config={**TINY, "model": {"fcnet_hiddens": [16]}}, logdir=str(tmp_path / "big")
    )
    with pytest.raises(CheckpointError, match="does not fit PPO"):
        bigger.restore(path)
    bigger.stop()


def test_from_checkpoint_finds_a_trainer_registered_under_another_name(tmp_path):
    """A plugin may register its trainer under a name other than the class's own."""
    from plugrl import Trainer, build_trainer
    from plugrl.registry import registry
    from plugrl_ppo import DEFAULT_CONFIG, PPOTorchPolicy

    standalone = build_trainer(
        name="StandaloneTrainer", default_policy=PPOTorchPolicy, default_config=DEFAULT_CONFIG
    )
    registry("algorithms").add("Standalone", standalone)
    try:
        trainer = standalone(config=TINY, logdir=str(tmp_path / "run"))
        try:
            path = trainer.save(str(tmp_path))
        finally:
            trainer.stop()
        restored = Trainer.from_checkpoint(path)
        try:
            assert type(restored) is standalone
        finally:
            restored.stop()
    finally:
        registry("algorithms").remove("Standalone")
