"""The plugrl CLI: one-line errors for bad input, `plugins --json`, `config`, the framework
flags, trainers by import path, examples in --help, and a tiny train + rollout."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from plugrl.cli import train as train_command
from plugrl.cli.main import build_cli
from plugrl.cli.train import lookup, resolve_trainer_class, should_stop, yaml_loader
from plugrl.jsonable import to_jsonable
from plugrl.registry import KNOWN_DISTRIBUTIONS, get_trainer_class
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


@pytest.mark.parametrize(
    ("key", "suggested"),
    [
        ("learning_rate", "'lr'"),
        ("n_envs", "'num_envs_per_worker'"),
        ("num_envs", "'num_envs_per_worker'"),
        ("batch_size", "'train_batch_size', 'sgd_minibatch_size'"),
        ("discount", "'gamma'"),
        ("ent_coef", "'entropy_coeff'"),
        ("vf_coef", "'vf_loss_coeff'"),
    ],
)
def test_unknown_config_key_names_the_plugrl_key(capsys, tmp_path, key, suggested):
    line = ppo_train_error(capsys, tmp_path, "--config", json.dumps({key: 1}))
    assert f"Unknown config key {key!r}. Did you mean: {suggested}?" in line
    assert "plugrl config" in line
    assert "num_cpus_for_driver" not in line, "no list of every key"


def test_config_lists_keys_with_defaults_and_comments(capsys):
    from plugrl_ppo.config import DEFAULT_CONFIG

    code, out, err = run_cli(capsys, "config", "PPO")
    assert code == 0, err
    assert yaml.load(out, Loader=yaml_loader()) == to_jsonable(DEFAULT_CONFIG)
    lines = out.splitlines()
    assert lines[lines.index("lr: 5.0e-05") - 1] == "# Learning rate."
    assert "  # Sizes of the hidden layers of the default fully connected network." in lines
    code, out, _ = run_cli(capsys, "config", "PPO", "--json")
    assert json.loads(out) == to_jsonable(DEFAULT_CONFIG)


def test_help_shows_examples(capsys):
    for args in (["--help"], ["train", "--help"]):
        code, out, _ = run_cli(capsys, *args)
        assert code == 0
        examples = out[out.index("Examples:") :].splitlines()
        assert examples[1].strip().startswith("plugrl train --run PPO --env CartPole-v1"), args


def test_help_lists_every_command(capsys):
    commands = build_cli().commands
    _, out, _ = run_cli(capsys, "--help")
    listed = out[out.index("Commands:") : out.index("Examples:")]
    assert {line.split()[0] for line in listed.splitlines()[1:] if line.strip()} == set(commands)
    assert {"train", "rollout", "plot", "config", "plugins"} <= set(commands)


@pytest.fixture
def experiment_config(monkeypatch):
    """The config `plugrl train` hands to run_experiment (which is not run)."""
    seen: dict = {}

    def record(**kwargs):
        seen.update(kwargs["config"])
        return 0

    monkeypatch.setattr(train_command, "run_experiment", record)
    return seen


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--torch"], {"framework": "torch"}),
        (["--framework", "tf"], {"framework": "tf", "eager_tracing": None}),  # traces
        (["--eager"], {"framework": "tf2", "eager_tracing": False}),
        (["--eager", "--trace"], {"framework": "tf2", "eager_tracing": True}),
        (["--framework", "tf", "--trace"], {"framework": "tf", "eager_tracing": True}),
    ],
)
def test_framework_flags(capsys, experiment_config, flags, expected):
    code, _, err = run_cli(capsys, "train", "--run", "PG", "--env", "CartPole-v1", *flags)
    assert code == 0, err
    assert {k: experiment_config.get(k) for k in expected} == expected


def test_framework_flags_that_disagree(capsys, experiment_config):
    line = cli_error(capsys, "train", "--run", "PG", "--torch", "--eager")
    assert "--torch and --eager choose different frameworks" in line
    line = cli_error(capsys, "train", "--run", "PG", "--trace")
    assert "--trace traces TensorFlow's eager mode, but the framework is 'torch'" in line


def test_run_takes_a_trainer_by_import_path(capsys, tmp_path, monkeypatch):
    assert resolve_trainer_class("plugrl_ppo:PPOTrainer") is get_trainer_class("PPO")
    (tmp_path / "my_trainers.py").write_text("NotATrainer = 1\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "my_trainers", raising=False)
    line = cli_error(capsys, "train", "--run", "my_trainers:NotATrainer", "--env", "CartPole-v1")
    assert "'my_trainers:NotATrainer' is 1, not a Trainer subclass" in line
    line = cli_error(capsys, "train", "--run", "my_trainers:Missing", "--env", "CartPole-v1")
    assert "cannot be imported" in line
    assert not (tmp_path / "default").exists()


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
    assert "iter 2/2  steps 512" in out

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
