"""`plugrl plot` and the trial reader: curves of fake and real trials, labels from the config
values that differ, and one-line errors for bad input."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest

from plugrl.cli.plot import plot_trials, trial_labels
from plugrl.results import find_trials, read_trial
from plugrl.testing import cli_error, run_cli
from plugrl_pg.testing import TINY_CONFIG

LOSS = "info/learner/default_policy/total_loss"


def write_trial(folder: Path, params: dict, results: list[dict]) -> Path:
    folder.mkdir(parents=True)
    (folder / "params.json").write_text(json.dumps(params))
    (folder / "result.json").write_text("".join(json.dumps(r) + "\n" for r in results))
    return folder


def fake_results(lr: float, n: int = 4) -> list[dict]:
    return [
        {
            "training_iteration": i,
            "timesteps_total": 100 * i,
            "time_total_s": 0.5 * i,
            "episode_reward_mean": 10 * i * (2 if lr > 0.005 else 1),
            "hostname": "box",
            "info": {"learner": {"default_policy": {"total_loss": 1 / i}}},
        }
        for i in range(1, n + 1)
    ]


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    """An experiment folder holding two trials that differ only in lr."""
    for name, lr in (("PG_a", 0.001), ("PG_b", 0.01)):
        params = {"lr": lr, "gamma": 0.99, "model": {"fcnet_hiddens": [8]}}
        write_trial(tmp_path / "exp" / name, params, fake_results(lr))
    return tmp_path / "exp"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_two_trials_one_subplot_per_key_labelled_by_lr(experiment):
    trials = [read_trial(path) for path in find_trials([experiment])]
    figure = plot_trials(trials, ["episode_reward_mean", LOSS])
    reward_ax, loss_ax = figure.axes[:2]
    assert [ax.get_title() for ax in (reward_ax, loss_ax)] == ["episode_reward_mean", LOSS]
    for ax in (reward_ax, loss_ax):
        assert [line.get_label() for line in ax.get_lines()] == ["lr=0.001", "lr=0.01"]
    small, large = reward_ax.get_lines()
    assert list(small.get_xdata()) == [100, 200, 300, 400]
    assert list(large.get_ydata()) == [20, 40, 60, 80]
    assert loss_ax.get_xlabel() == "timesteps_total"
    assert [t.get_text() for t in reward_ax.get_legend().get_texts()] == ["lr=0.001", "lr=0.01"]


def test_cli_writes_a_png(capsys, experiment, tmp_path):
    out = tmp_path / "figs" / "curves.png"
    code, stdout, err = run_cli(
        capsys, "plot", str(experiment), "-k", "episode_reward_mean", "-k", LOSS, "-o", str(out)
    )
    assert code == 0, err
    assert f"Plotted 2 trial(s) to {out}" in stdout
    assert png_size(out) == (800, 620)  # 8 x (0.6 + 2.8 per key) inches at 100 dpi
    assert out.stat().st_size > 10_000  # drawn, not blank


def test_defaults_and_x_axis(capsys, experiment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    trial = experiment / "PG_a"
    code, _, err = run_cli(capsys, "plot", str(trial), "--x", "time_total_s")
    assert code == 0, err
    assert png_size(tmp_path / "plot.png") == (800, 340)
    (line,) = (
        plot_trials([read_trial(trial)], ["episode_reward_mean"], "time_total_s")
        .axes[0]
        .get_lines()
    )
    assert line.get_label() == "PG_a"  # one trial: nothing varies, so its folder name
    assert list(line.get_xdata()) == [0.5, 1.0, 1.5, 2.0]


def test_labels_fall_back_to_folder_names(tmp_path):
    same = {"lr": 0.01}
    a = read_trial(write_trial(tmp_path / "A", same, fake_results(0.01)))
    b = read_trial(write_trial(tmp_path / "B", same, fake_results(0.01)))
    c = read_trial(write_trial(tmp_path / "C", {"lr": 0.1, "seed": 1}, fake_results(0.1)))
    assert trial_labels([a, b]) == ["A", "B"]
    assert trial_labels([a, b, c]) == ["lr=0.01 (A)", "lr=0.01 (B)", "lr=0.1"]


def test_real_trial(capsys, tmp_path):
    config = json.dumps({k: v for k, v in TINY_CONFIG.items() if k != "env"})
    args = ("--stop", '{"training_iteration": 3}', "--config", config)
    local = ("--local-dir", str(tmp_path / "results"))
    code, _, err = run_cli(capsys, "train", "--run", "PG", "--env", "CartPole-v1", *args, *local)
    assert code == 0, err
    out = tmp_path / "real.png"
    code, _, err = run_cli(capsys, "plot", str(tmp_path / "results"), "-k", LOSS, "-o", str(out))
    assert code == 0, err
    assert png_size(out) == (800, 340)
    (trial,) = [read_trial(path) for path in find_trials([tmp_path / "results"])]
    (line,) = plot_trials([trial], ["episode_reward_mean", LOSS]).axes[1].get_lines()
    assert line.get_label() == trial.name
    assert list(line.get_xdata()) == [result["timesteps_total"] for result in trial.results]
    assert len(line.get_xdata()) == 3


def test_malformed_lines_are_skipped_with_a_warning(capsys, experiment, tmp_path):
    with open(experiment / "PG_a" / "result.json", "a") as file:
        file.write('[1, 2]\n{"training_iteration": 5, "timest')  # a run killed mid-write
    code, _, err = run_cli(capsys, "plot", str(experiment), "-o", str(tmp_path / "p.png"))
    assert code == 0, err
    assert "plugrl: warning: skipped 2 malformed line(s)" in err
    assert "(line 5, 6)" in err
    assert len(read_trial(experiment / "PG_a").results) == 4


def test_empty_trial_is_left_out(capsys, experiment, tmp_path):
    write_trial(experiment / "PG_c", {"lr": 0.1}, [])
    code, out, err = run_cli(capsys, "plot", str(experiment), "-o", str(tmp_path / "p.png"))
    assert code == 0, err
    assert "PG_c' holds no results yet: left out" in err
    assert "Plotted 2 trial(s)" in out


def test_key_missing_in_one_trial_is_left_out_of_its_subplot(capsys, experiment, tmp_path):
    write_trial(experiment / "PG_c", {"lr": 0.1}, [{"timesteps_total": 1, "other": 1.0}])
    code, _, err = run_cli(capsys, "plot", str(experiment), "-o", str(tmp_path / "p.png"))
    assert code == 0, err
    assert "trial 'PG_c' has no 'episode_reward_mean': left out of that subplot" in err


@pytest.mark.parametrize(
    "args, expected",
    [
        (["missing"], "'missing' does not exist or is not a folder"),
        (["empty"], "No result.json in or under 'empty'"),
        (["EXP", "-k", "episode_reward_man"], "Did you mean: 'episode_reward_mean'?"),
        (["EXP", "-k", "info/learner"], f"It holds: {LOSS}."),
        (["EXP", "--x", "timesteps"], "Key 'timesteps' is in the results of none of the 2"),
        (["EXP", "-k", "hostname"], "Key 'hostname' is not a number in trial 'PG_a' (got 'box')"),
        (["EXP", "-o", "p.txt"], "Cannot write the plot to 'p.txt'"),
    ],
)
def test_bad_input_is_one_error_line(capsys, experiment, tmp_path, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    args = [str(experiment) if arg == "EXP" else arg for arg in args]
    assert expected in cli_error(capsys, "plot", *args)


def test_no_results_at_all(capsys, tmp_path):
    write_trial(tmp_path / "PG_a", {}, [])
    assert "No results to plot" in cli_error(capsys, "plot", str(tmp_path / "PG_a"))


def test_without_matplotlib(capsys, experiment, monkeypatch):
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)
    line = cli_error(capsys, "plot", str(experiment))
    assert "needs matplotlib" in line
    assert "pip install 'plugrl[plot]'" in line
