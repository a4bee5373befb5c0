"""Trainers under Ray Tune: the seeds' examples with `from plugrl import tune`, checkpoints,
resources, and `plugrl train -f` with grid_search. Real Ray, two CPUs, tiny trials."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from plugrl.checkpoint import read_state
from plugrl.testing import run_cli

ray = pytest.importorskip("ray")
tune_module = pytest.importorskip("ray.tune")

import plugrl_ppo  # noqa: E402
from plugrl import tune  # noqa: E402
from plugrl_pg import PGTrainer  # noqa: E402

pytestmark = pytest.mark.ray

TINY = {
    "env": "CartPole-v1",
    "train_batch_size": 200,
    "rollout_fragment_length": 200,
    "model": {"fcnet_hiddens": [8]},
}
GRID_YAML = Path(plugrl_ppo.__file__).parent / "tuned_examples" / "cartpole-ppo-grid.yaml"


@pytest.fixture(scope="module")
def two_cpus():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def trial_files(trial) -> set[str]:
    return {path.name for path in Path(trial.path).iterdir()}


@pytest.mark.parametrize("run", [PGTrainer, "PG"], ids=["by-class", "by-name"])
def test_lr_grid_with_checkpoints(two_cpus, tmp_path, run):
    analysis = tune.run(
        run,
        config={**TINY, "lr": tune.grid_search([0.01, 0.001, 0.0001])},
        stop={"training_iteration": 2},
        checkpoint_freq=1,
        checkpoint_at_end=True,
        storage_path=str(tmp_path),
        verbose=0,
    )
    trials = analysis.trials
    assert sorted(trial.config["lr"] for trial in trials) == [0.0001, 0.001, 0.01]
    for trial in trials:
        assert trial.status == "TERMINATED"
        assert trial.last_result["training_iteration"] == 2
        files = trial_files(trial)
        assert {"params.json", "result.json", "progress.csv"} <= files
        assert any(name.startswith("events.out.tfevents") for name in files)
        lines = Path(trial.path, "result.json").read_text().splitlines()
        assert [json.loads(line)["training_iteration"] for line in lines] == [1, 2]
        assert "config" not in json.loads(lines[0])
        assert json.loads(Path(trial.path, "params.json").read_text())["lr"] == trial.config["lr"]
        # Tune's checkpoints are the trainer's own folders: a trainer restores from them.
        checkpoint = trial.checkpoint.path
        assert read_state(checkpoint)["iteration"] == 2
        restored = PGTrainer.from_checkpoint(checkpoint, logdir=str(tmp_path / "restored"))
        try:
            assert restored.iteration == 2 and restored.config["lr"] == trial.config["lr"]
        finally:
            restored.stop()


def test_tuner_nested_stop_and_trial_restore(two_cpus, tmp_path):
    tuner = tune.Tuner(
        "PG",
        param_space={**TINY, "lr": tune.grid_search([0.01, 0.001])},
        run_config=tune.RunConfig(
            name="tuner",
            storage_path=str(tmp_path),
            stop={"info/num_steps_sampled": 400},
            checkpoint_config=tune.CheckpointConfig(checkpoint_at_end=True),
            verbose=0,
        ),
    )
    results = tuner.fit()
    assert not results.errors
    for result in results:
        assert 400 <= result.metrics["info"]["num_steps_sampled"] < 600
    first = results[0]
    steps = first.metrics["timesteps_total"]

    # A trial restored from a checkpoint continues where it stopped.
    analysis = tune.run(
        PGTrainer,
        config={**TINY, "lr": first.config["lr"]},
        restore=first.checkpoint.path,
        stop={"training_iteration": first.metrics["training_iteration"] + 1},
        storage_path=str(tmp_path),
        name="restored",
        verbose=0,
    )
    [trial] = analysis.trials
    assert trial.last_result["training_iteration"] == first.metrics["training_iteration"] + 1
    assert trial.last_result["timesteps_total"] > steps


def test_a_trial_reserves_its_driver_and_every_worker():
    trainable = tune.as_trainable("PG")
    request = trainable.default_resource_request(
        {"num_workers": 2, "evaluation_interval": 1, "evaluation_num_workers": 1, "num_gpus": 0.5}
    )
    assert request.bundles == [{"CPU": 1, "GPU": 0.5}, {"CPU": 1}, {"CPU": 1}, {"CPU": 1}]
    assert request.strategy == "PACK"
    assert trainable.default_resource_request({}).bundles == [{"CPU": 1}]


class RunningTrials(tune_module.Callback):
    """The most trials that ran at once."""

    def __init__(self):
        self.running = self.most = 0

    def on_trial_start(self, iteration, trials, trial, **info):
        self.running += 1
        self.most = max(self.most, self.running)

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.running -= 1


def test_trials_with_workers_never_oversubscribe(two_cpus, tmp_path):
    running = RunningTrials()
    analysis = tune.run(
        "PG",
        config={**TINY, "num_workers": 1, "lr": tune.grid_search([0.01, 0.001])},
        stop={"training_iteration": 1},
        storage_path=str(tmp_path),
        callbacks=[running],
        verbose=0,
    )
    assert [trial.status for trial in analysis.trials] == ["TERMINATED"] * 2
    assert all(trial.last_result["num_healthy_workers"] == 1 for trial in analysis.trials)
    assert running.most == 1  # a trial with a worker takes both CPUs


def test_the_grid_example_runs_through_plugrl_train(two_cpus, tmp_path, capsys):
    code, out, err = run_cli(
        capsys,
        "train",
        "-f",
        str(GRID_YAML),
        "--stop",
        '{"training_iteration": 1}',
        "--config",
        '{"seed": 0, "model": {"fcnet_hiddens": [8]}}',
        "--local-dir",
        str(tmp_path),
    )
    assert code == 0, err
    assert "Running 3 trials under Ray Tune." in out
    table = out[out.index("3 trials") :]
    assert "lr" in table and "best reward" in table and "seed" not in table.splitlines()[2]
    for lr in ("0.0005", "0.001", "0.002"):
        assert lr in table
    trials = [path for path in (tmp_path / "cartpole-ppo-grid").iterdir() if path.is_dir()]
    assert len(trials) == 3
    for trial in trials:
        assert {"params.json", "result.json", "progress.csv", "checkpoint_000000"} <= {
            path.name for path in trial.iterdir()
        }
    assert f"plugrl plot {tmp_path / 'cartpole-ppo-grid'}" in out


def test_a_typo_in_one_trial_stops_before_ray_starts(tmp_path, capsys, monkeypatch):
    def no_tune(*args, **kwargs):
        raise AssertionError("Tune was started")

    monkeypatch.setattr("plugrl.cli.trials.run_trials", no_tune)
    code, _, err = run_cli(
        capsys,
        "train",
        "-f",
        str(GRID_YAML),
        "--config",
        '{"lr": {"grid_search": [0.01, -1]}}',
    )
    assert code == 2
    assert err.strip() == (
        "plugrl: error: Experiment 'cartpole-ppo-grid', trial lr=-1, seed=0: Config key 'lr' "
        "must be a number >= 0, got -1."
    )


def test_a_failed_trial_is_one_error_naming_it(two_cpus, tmp_path, capsys):
    code, out, err = run_cli(
        capsys,
        "train",
        "--run",
        "PG",
        "--env",
        "CartPole-v1",
        "--num-samples",
        "2",
        "--stop",
        '{"training_iteration": 1}',
        "--config",
        '{"env_config": {"no_such_argument": 1}}',
        "--local-dir",
        str(tmp_path),
    )
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith("plugrl: error: 2 of 2 trials failed (PG_CartPole-v1_")
    assert "no_such_argument" in line and "error.txt" in line
    assert "ERROR" in out  # the summary table still shows every trial


def test_trials_without_tune_name_the_extra(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray.tune", None)  # import ray.tune: ImportError
    code, _, err = run_cli(capsys, "train", "-f", str(GRID_YAML))
    assert code == 2
    assert err.strip() == (
        "plugrl: error: This run has 6 trials (grid_search / num_samples): more than one trial "
        "runs under Ray Tune, which is not installed: pip install 'plugrl[tune]'."
    )
