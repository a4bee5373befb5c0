"""The plugrl CLI: one-line errors for bad input, `plugins --json`, and a tiny train + rollout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plugrl.cli.train import lookup, should_stop
from plugrl.registry import KNOWN_DISTRIBUTIONS
from plugrl.testing import cli_error, run_cli

TINY_PPO = json.dumps(
    {
        "train_batch_size": 256,
        "sgd_minibatch_size": 64,
        "num_sgd_iter": 1,
        "rollout_fragment_length": 64,
        "num_envs_per_worker": 4,
        "model": {"fcnet_hiddens": [16]},
    }
)


def ppo_train_error(capsys: pytest.CaptureFixture, tmp_path: Path, *extra: str) -> str:
    """The error line of `plugrl train --run PPO --env CartPole-v1 EXTRA` into tmp_path."""
    args = ("train", "--run", "PPO", "--env", "CartPole-v1", *extra, "--local-dir", str(tmp_path))
    return cli_error(capsys, *args)


@pytest.mark.parametrize("flag", ["--config", "--stop"])
def test_bad_json_names_the_flag_and_position(capsys, tmp_path, flag):
    line = ppo_train_error(capsys, tmp_path, flag, '{"lr": 0.1,}')
    assert f"{flag} is not valid JSON" in line
    assert "column 12" in line


def test_unknown_algorithm_lists_installed_and_the_distribution(capsys, tmp_path, monkeypatch):
    known = {**KNOWN_DISTRIBUTIONS["algorithms"], "Rainbow": "plugrl-rainbow"}
    monkeypatch.setitem(KNOWN_DISTRIBUTIONS, "algorithms", known)
    line = cli_error(
        capsys, "train", "--run", "Rainbow", "--env", "CartPole-v1", "--local-dir", str(tmp_path)
    )
    assert "pip install plugrl-rainbow" in line
    assert "PPO" in line
    assert not any(tmp_path.iterdir())


def test_unknown_env(capsys, tmp_path):
    line = cli_error(
        capsys, "train", "--run", "PPO", "--env", "CartPol-v1", "--local-dir", str(tmp_path)
    )
    assert "Unknown env 'CartPol-v1'" in line
    assert "CartPole-v1" in line


def test_unknown_config_key_suggests(capsys, tmp_path):
    line = ppo_train_error(capsys, tmp_path, "--config", '{"lr_schedul": null}')
    assert "Unknown config key 'lr_schedul'" in line
    assert "Did you mean: 'lr_schedule'" in line
    assert not list(tmp_path.glob("*/*")), "no empty run folder is left behind"


def test_missing_yaml_and_usage_errors(capsys, tmp_path):
    line = cli_error(capsys, "train", "-f", str(tmp_path / "nope.yaml"))
    assert "does not exist" in line
    bad = tmp_path / "bad.yaml"
    bad.write_text("exp: {run: PPO, config: [1,\n")
    assert "not valid YAML" in cli_error(capsys, "train", "-f", str(bad))
    assert "--bogus" in cli_error(capsys, "train", "--bogus")


def test_rollout_missing_checkpoint(capsys, tmp_path):
    line = cli_error(capsys, "rollout", str(tmp_path / "checkpoint_000001"), "--no-render")
    assert "does not exist" in line


def test_plugins_json_lists_plugins_with_versions(capsys):
    code, out, _ = run_cli(capsys, "plugins", "--json")
    assert code == 0
    report = json.loads(out)
    plugins = {p["name"]: p for p in report["plugins"]}
    for name in ("ppo", "torch", "exploration"):
        assert plugins[name]["version"], name
        assert plugins[name]["distribution"].startswith("plugrl-")
    assert "PPO" in plugins["ppo"]["registers"]["algorithms"]
    assert plugins["plugrl.builtins.commands"]["builtin"]
    assert report["failures"] == []


def test_stop_criteria():
    result = {
        "training_iteration": 3,
        "evaluation": {"episode_reward_mean": 10.0},
        "episode_reward_mean": float("nan"),
    }
    assert lookup(result, "evaluation/episode_reward_mean") == 10.0
    assert should_stop(result, {"evaluation/episode_reward_mean": 10})
    assert should_stop(result, {"training_iteration": 3})
    assert not should_stop(result, {"training_iteration": 4, "episode_reward_mean": 0})


def test_train_then_rollout(capsys, tmp_path):
    code, out, err = run_cli(
        capsys,
        "train",
        "--run",
        "PPO",
        "--env",
        "CartPole-v1",
        "--stop",
        '{"training_iteration": 2}',
        "--config",
        TINY_PPO,
        "--seed",
        "1",
        "--local-dir",
        str(tmp_path),
    )
    assert code == 0, err
    (logdir,) = (tmp_path / "default").iterdir()
    assert (logdir / "result.json").exists()
    assert (logdir / "progress.csv").exists()
    assert list(logdir.glob("events.out.tfevents*"))
    checkpoint = logdir / "checkpoint_000002"
    assert (checkpoint / "state.json").exists()
    assert f"Checkpoint: {checkpoint}" in out
    assert "iter     2" in out

    episodes = tmp_path / "r.jsonl"
    code, out, err = run_cli(
        capsys, "rollout", str(checkpoint), "--episodes", "2", "--no-render", "--out", str(episodes)
    )
    assert code == 0, err
    assert "Mean reward over 2 episodes" in out
    lines = [json.loads(line) for line in Path(episodes).read_text().splitlines()]
    assert len(lines) == 2
    assert len(lines[0]["obs"]) == len(lines[0]["actions"]) == lines[0]["length"]
    assert sum(lines[0]["rewards"]) == lines[0]["reward"]
