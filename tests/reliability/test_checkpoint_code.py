"""A checkpoint never makes plugrl import or run code: its config may name only registered
things and gymnasium ids (the attack of the reliability issue, and every key that names code)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from plugrl import CheckpointError, Trainer
from plugrl.checkpoint import STATE_FILE
from plugrl.checkpoint.config import CODE_KEYS, ESSENTIAL_KEYS
from plugrl.testing import cli_error
from plugrl_ppo import PPOTrainer

CANARY = """
import pathlib
pathlib.Path({marker!r}).write_text("imported")


class Thing:
    pass


def thing(*args, **kwargs):
    pathlib.Path({marker!r}).write_text("called")
"""


@pytest.fixture
def canary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An importable module ``plugrl_canary`` that leaves a marker file when imported; the
    marker's path is returned (it must never appear)."""
    marker = tmp_path / "IMPORTED"
    (tmp_path / "plugrl_canary.py").write_text(CANARY.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield marker
    sys.modules.pop("plugrl_canary", None)


def _set(config: dict, path: tuple[str, ...], value: object) -> None:
    for part in path[:-1]:
        config = config.setdefault(part, {})
    config[path[-1]] = value


CASES = [*CODE_KEYS, *(("evaluation_config", *key) for key in CODE_KEYS)]


@pytest.mark.parametrize("key", CASES, ids=lambda k: ".".join(k))
@pytest.mark.parametrize("form", ["plugrl_canary:Thing", "plugrl_canary.Thing"])
def test_no_code_key_of_a_checkpoint_is_imported(key, form, canary, tampered):
    path = tampered(lambda state: _set(state["config"], key, form))
    essential = (key[1:] if key[0] == "evaluation_config" else key) in ESSENTIAL_KEYS
    if essential:
        with pytest.raises(CheckpointError, match="never imports code named in a checkpoint"):
            Trainer.from_checkpoint(str(path))
    else:
        with pytest.warns(UserWarning, match="is not loaded"):
            Trainer.from_checkpoint(str(path)).stop()
    assert not canary.exists()


def test_params_json_beside_the_checkpoint_is_untrusted_too(canary, tampered):
    path = tampered(lambda state: state.pop("config"))
    params = {"env": "plugrl_canary:Thing", "model": {"fcnet_hiddens": [8]}}
    (path.parent / "params.json").write_text(json.dumps(params))
    with pytest.raises(CheckpointError, match="sets env to 'plugrl_canary:Thing'"):
        Trainer.from_checkpoint(str(path))
    assert not canary.exists()


def test_the_reported_attack_runs_nothing(capsys, tmp_path, tampered):
    """`plugrl rollout` of a checkpoint whose env is subprocess.Popen with a shell command
    in env_config: one error line, and the command never runs."""
    victim = tmp_path / "pwned"
    command = {"sh": 0, "-c": 0, f"id > {victim}": 0}

    def poison(state: dict) -> None:
        state["config"].update(env="subprocess:Popen", env_config=command)

    path = tampered(poison)
    line = cli_error(capsys, "rollout", str(path), "--no-render", "--steps", "1")
    assert "never imports code named in a checkpoint" in line
    assert "--env subprocess:Popen" in line  # how to ask for it on purpose
    assert not victim.exists()


def test_registered_names_and_the_users_own_arguments_still_work(canary, tampered):
    path = tampered(lambda state: state["config"].update(env="plugrl_canary:Thing"))
    trainer = PPOTrainer.from_checkpoint(str(path), env="CartPole-v1")
    try:
        assert trainer.config["env"] == "CartPole-v1"
        assert trainer.iteration == 1
    finally:
        trainer.stop()
    assert not canary.exists()


def test_from_checkpoint_restores_the_run(ppo_checkpoint):
    state = json.loads((ppo_checkpoint / STATE_FILE).read_text())["state"]
    trainer = Trainer.from_checkpoint(str(ppo_checkpoint))
    try:
        assert type(trainer).__name__ == "PPO"
        assert trainer.iteration == state["iteration"] == 1
        assert trainer.config["model"]["fcnet_hiddens"] == [8]
    finally:
        trainer.stop()
