"""Restore checks everything first and applies all of it or nothing; every malformed checkpoint
is one CheckpointError naming what is wrong."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from plugrl import CheckpointError
from plugrl.checkpoint import ARRAYS_FILE, STATE_FILE, read_state, write_state
from plugrl.testing import cli_error
from plugrl_a3c import A2CTrainer
from plugrl_a3c.testing import TINY_CONFIG as TINY_A2C
from plugrl_ppo import PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    """A fresh PPO trainer of the checkpoint's kind (restores that fail must leave it as is)."""
    t = PPOTrainer(config={**TINY_CONFIG, "seed": 7}, logdir=str(tmp_path_factory.mktemp("run")))
    yield t
    t.stop()


def _snapshot(trainer) -> dict:
    policy = trainer.get_policy()
    return {
        "weights": trainer.get_weights()["default_policy"],
        "timestep": policy.global_timestep,
        "iteration": trainer.iteration,
        "sampled": trainer.optimizer.num_steps_sampled,
        "kl_coeff": float(policy.kl_coeff),
    }


def _assert_unchanged(trainer, before: dict) -> None:
    after = _snapshot(trainer)
    for name, value in before["weights"].items():
        np.testing.assert_array_equal(after["weights"][name], value, err_msg=name)
    assert {k: v for k, v in after.items() if k != "weights"} == {
        k: v for k, v in before.items() if k != "weights"
    }


def _refused(trainer, path: Path, match: str) -> None:
    before = _snapshot(trainer)
    with pytest.raises(CheckpointError, match=match):
        trainer.restore(str(path))
    _assert_unchanged(trainer, before)


def test_a_good_checkpoint_restores(trainer, ppo_checkpoint):
    trainer.restore(str(ppo_checkpoint))
    assert trainer.iteration == 1
    fresh = PPOTrainer(config={**TINY_CONFIG, "seed": 7}, logdir=str(ppo_checkpoint.parent / "x"))
    try:
        fresh.restore(str(ppo_checkpoint))
        _assert_unchanged(fresh, _snapshot(trainer))
    finally:
        fresh.stop()


def test_another_algorithms_checkpoint_is_refused(trainer, tmp_path):
    a2c = A2CTrainer(config=TINY_A2C, logdir=str(tmp_path / "a2c"))
    try:
        path = a2c.save(str(tmp_path))
    finally:
        a2c.stop()
    _refused(trainer, Path(path), "written by 'A2C', not by 'PPO'")


def test_a_missing_counter_changes_nothing(trainer, tampered):
    path = tampered(lambda s: s["optimizer"].pop("num_steps_sampled"))
    _refused(trainer, path, "/optimizer/num_steps_sampled is missing")


def test_another_model_size_changes_nothing(trainer, tmp_path):
    bigger = PPOTrainer(
        config={**TINY_CONFIG, "model": {"fcnet_hiddens": [16]}}, logdir=str(tmp_path / "big")
    )
    try:
        path = bigger.save(str(tmp_path))
    finally:
        bigger.stop()
    _refused(trainer, Path(path), r"weights/policy_hidden.0.bias has shape \(16,\).*\(8,\)")


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda s: s.update(iteration="abc"), "/iteration is a string, expected an integer"),
        (lambda s: s.update(episodes_total=1.5), "/episodes_total is a number, expected an"),
        (lambda s: s["worker"]["policies"].clear(), "default_policy is missing"),
        (
            lambda s: s["worker"]["policies"]["default_policy"].pop("exploration"),
            "exploration is missing",
        ),
        (lambda s: s.update(spaces={"default_policy": "Discrete(3)"}), "its spaces for policy"),
        (lambda s: s.update(extra=1), "/extra is not part of this trainer's state"),
    ],
)
def test_malformed_state_is_refused(trainer, tampered, edit, match):
    _refused(trainer, tampered(edit), match)


@pytest.mark.parametrize("state", [[1, 2], "text", None, 3])
def test_a_state_that_is_not_an_object(trainer, tampered, state):
    _refused(trainer, tampered(state=state), "corrupt or incomplete")


def test_a_state_file_that_is_a_list(trainer, tampered):
    path = tampered(lambda s: s)
    (path / STATE_FILE).write_text("[1, 2, 3]")
    _refused(trainer, path, "corrupt or incomplete")


def test_deeply_nested_json(trainer, tampered):
    path = tampered(lambda s: s)
    (path / STATE_FILE).write_text('{"format_version": 1, "state": ' + "[" * 100_000)
    _refused(trainer, path, "corrupt or incomplete")


def test_deep_but_parseable_json(trainer, tampered):
    deep: object = 0
    for _ in range(500):
        deep = [deep]
    path = tampered(lambda s: s.update(trainer_state={"x": deep}))
    _refused(trainer, path, "nested more than 100 levels")


def test_an_array_header_claiming_a_terabyte(trainer, tampered):
    """An npy header may claim 10^12 floats; nothing that size is allocated."""
    path = tampered(lambda s: s)
    arrays = path / ARRAYS_FILE
    with zipfile.ZipFile(arrays) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    name = next(iter(members))
    header = {"descr": "<f4", "fortran_order": False, "shape": (10**12,)}
    blob = bytearray(b"\x93NUMPY\x01\x00")
    text = repr(header).encode().ljust(118) + b"\n"
    blob += len(text).to_bytes(2, "little") + text + b"\0" * 64
    members[name] = bytes(blob)
    with zipfile.ZipFile(arrays, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    _refused(trainer, path, r"claims \(1000000000000,\)")


def test_nan_weights_are_refused(trainer, tmp_path, ppo_checkpoint):
    state = read_state(ppo_checkpoint)
    weights = state["worker"]["policies"]["default_policy"]["weights"]
    name = next(iter(weights))
    weights[name] = np.full_like(weights[name], np.nan)
    path = write_state(tmp_path / "nan", state)
    _refused(trainer, path, "holds NaN or infinite values")


def test_a_failure_while_applying_rolls_everything_back(trainer, ppo_checkpoint, monkeypatch):
    """The optimizer's counters are applied after the weights: a failure there must put the
    weights back."""
    fresh_weights = {k: v + 1.0 for k, v in trainer.get_weights()["default_policy"].items()}
    trainer.set_weights({"default_policy": fresh_weights})
    before = _snapshot(trainer)

    real_restore, calls = trainer.optimizer.restore, []

    def fail(state):  # the first call (applying the checkpoint) fails, the rollback works
        calls.append(state)
        if len(calls) == 1:
            raise RuntimeError("disk gremlin")
        real_restore(state)

    monkeypatch.setattr(trainer.optimizer, "restore", fail)
    with pytest.raises(CheckpointError, match="disk gremlin.*the trainer is unchanged"):
        trainer.restore(str(ppo_checkpoint))
    monkeypatch.undo()
    _assert_unchanged(trainer, before)


@pytest.mark.parametrize(
    ("run", "restore", "config", "match"),
    [
        ("PPO", "missing", {}, "does not exist"),
        ("A2C", "ppo", {}, "written by 'PPO', not by 'A2C'"),
        ("PPO", "ppo", {"model": {"fcnet_hiddens": [4]}}, "does not fit PPO"),
    ],
    ids=["missing", "another-algorithm", "another-model"],
)
def test_cli_restore_that_fails_leaves_no_run_folder(
    capsys, tmp_path, ppo_checkpoint, run, restore, config, match
):
    """Checked before the trainer is built where it can be, else its run folder is removed."""
    checkpoint = ppo_checkpoint if restore == "ppo" else tmp_path / "nope"
    line = cli_error(
        capsys, "train", "--run", run, "--env", "CartPole-v1", "--config", json.dumps(config),
        "--restore", str(checkpoint), "--local-dir", str(tmp_path / "results"),
    )  # fmt: skip
    assert match in line
    assert not any((tmp_path / "results").rglob("params.json"))
