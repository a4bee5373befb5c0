"""Atari and MinAtar by gymnasium id: the standard pipeline for ALE ids (a tiny PPO run of
Pong through the CLI), old gym ids answered with the ALE id, and MinAtar images."""

from __future__ import annotations

import json

import numpy as np
import pytest

from plugrl import EnvContext, EnvError
from plugrl.env.creator import make_env_creator
from plugrl.testing import cli_error, run_cli

pytest.importorskip("ale_py")

TINY_PONG = {
    "train_batch_size": 64,
    "rollout_fragment_length": 64,
    "sgd_minibatch_size": 32,
    "num_sgd_iter": 1,
    "model": {"conv_filters": [[8, [8, 8], 4], [8, [4, 4], 2]], "fcnet_hiddens": [16]},
}


def test_ale_ids_get_the_standard_pipeline_unless_told_not_to():
    env = make_env_creator("ALE/Pong-v5")(EnvContext({}))
    obs, _ = env.reset(seed=0)
    assert env.observation_space.shape == obs.shape == (84, 84, 4)
    assert obs.dtype == np.uint8
    env.close()
    raw = make_env_creator("ALE/Pong-v5", preprocessor_pref=None)(EnvContext({}))
    assert raw.observation_space.shape == (210, 160, 3)
    raw.close()


def test_the_pipeline_keeps_its_own_frameskip():
    with pytest.raises(EnvError, match="preprocessor_pref: null"):
        make_env_creator("ALE/Pong-v5")(EnvContext({"frameskip": 2}))


def test_old_gym_atari_ids_name_the_ale_id(capsys):
    with pytest.raises(EnvError, match="use 'ALE/Pong-v5'"):
        make_env_creator("PongDeterministic-v4")
    line = cli_error(capsys, "train", "--run", "A2C", "--env", "PongDeterministic-v4")
    assert "'ALE/Pong-v5'" in line


def test_ppo_trains_on_pong_from_the_cli(capsys, tmp_path):
    args = ["train", "--run", "PPO", "--env", "ALE/Pong-v5", "--local-dir", str(tmp_path)]
    stop = json.dumps({"training_iteration": 2})
    code, out, err = run_cli(capsys, *args, "--stop", stop, "--config", json.dumps(TINY_PONG))
    assert code == 0, err
    (trial,) = (tmp_path / "default").iterdir()
    rows = (trial / "progress.csv").read_text().splitlines()
    assert len(rows) == 3  # header and two iterations


def test_an_unknown_preprocessor_pref_is_one_line(capsys):
    line = cli_error(
        capsys,
        "train",
        "--run",
        "PPO",
        "--env",
        "ALE/Pong-v5",
        "--config",
        json.dumps({"preprocessor_pref": "rllib"}),
    )
    assert "preprocessor_pref" in line


def test_minatar_ids_are_images():
    pytest.importorskip("minatar")
    env = make_env_creator("MinAtar/Breakout-v1")(EnvContext({}))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (10, 10, 4)
    env.close()
