"""Training progress: a live view in a terminal, one plain line per iteration elsewhere, a
heartbeat during long iterations, and an ETA towards the stop criteria."""

from __future__ import annotations

import io
import json
import os
import re
import select
import struct
import subprocess
import sys
import time

import pytest

from plugrl.cli import progress
from plugrl.cli.progress import Estimate, TrainingProgress, format_result
from plugrl.registry import get_trainer_class
from plugrl.testing import run_cli
from plugrl_ppo.testing import TINY_CONFIG

TINY = json.dumps({k: v for k, v in TINY_CONFIG.items() if k != "env"})
RESULT_LINE = re.compile(r"^iter (\d+)/(\d+)  steps ")


def result(iteration: int, elapsed: float, reward: float = 10.0) -> dict:
    return {
        "training_iteration": iteration,
        "timesteps_total": 100 * iteration,
        "timesteps_this_iter": 100,
        "time_this_iter_s": 0.5,
        "time_total_s": elapsed,
        "episode_reward_mean": reward,
        "episode_reward_min": reward - 5,
        "episode_reward_max": reward + 5,
    }


def test_the_eta_follows_the_criterion_closest_to_being_met():
    estimate = Estimate({"timesteps_total": 1000, "training_iteration": 100})
    first = result(2, elapsed=4.0)
    estimate.add(first)
    key, fraction, left = estimate.soonest(first)
    assert (key, fraction) == ("timesteps_total", 0.2)
    assert left == pytest.approx(16.0)  # 800 more steps at 50 steps/s

    rising = Estimate({"episode_reward_mean": 50, "time_total_s": 1000})
    for i in range(1, 5):
        last = result(i, elapsed=10.0 * i, reward=10.0 * i)
        rising.add(last)
    assert rising.soonest(last) == ("episode_reward_mean", None, pytest.approx(10.0))

    flat = Estimate({"episode_reward_mean": 50})
    for i in range(1, 5):
        flat.add(result(i, elapsed=10.0 * i))
    assert flat.soonest(result(4, elapsed=40.0)) == ("episode_reward_mean", None, None)


def test_a_plain_line_shows_the_fields_and_targets():
    line = format_result(
        {**result(3, elapsed=75.0), "evaluation": {"episode_reward_mean": 42.0}},
        {"timesteps_total": 1000, "training_iteration": 10},
        eta=12.0,
    )
    assert line == (
        "iter 3/10  steps 300/1,000 (30%)  reward 10.0 (5.0/15.0)  200 steps/s"
        "  elapsed 0:01:15  ETA 12.0s  eval reward 42.0"
    )


def test_the_heartbeat_stops_with_the_view():
    stream = io.StringIO()
    with TrainingProgress({}, stream=stream, heartbeat_s=0.05) as view:
        assert not view.live
        time.sleep(0.3)
        view.update(result(1, elapsed=0.3))
    printed = stream.getvalue()
    time.sleep(0.2)
    assert stream.getvalue() == printed, "nothing is printed after the view is closed"
    lines = printed.splitlines()
    assert lines[0].startswith("iter 1 running for ")
    assert lines[-1].startswith("iter 1  steps 100")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_live_view_shows_evaluations_and_keeps_its_last_frame(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("TTY_INTERACTIVE", raising=False)
    stream = _Terminal()
    with TrainingProgress({"episode_reward_mean": 50}, title="PPO on X", stream=stream) as view:
        assert view.live
        view.update({**result(1, elapsed=1.0), "evaluation": {"episode_reward_mean": 42.0}})
        view.update(result(2, elapsed=2.0, reward=20.0))
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stream.getvalue())
    last_frame = text[text.rindex("PPO on X") :]
    assert re.search(r"evaluation\s+reward 42.0 \(iteration 1\)", last_frame)
    assert re.search(r"reward\s+20.0/50.0\s+\(min 15.0, max 25.0\)", last_frame)
    assert re.search(r"ETA\s+3.0s\s+\(until episode_reward_mean >= 50\)", last_frame)
    assert "running for" not in last_frame


def test_plain_output_one_line_per_iteration_and_a_heartbeat(capsys, tmp_path, monkeypatch):
    """Not a terminal: exactly one line per iteration, heartbeats while train() is slow,
    then where the results are and what to run next."""
    monkeypatch.setattr(progress, "HEARTBEAT_S", 0.1)
    trainer_cls = get_trainer_class("PPO")
    fast_train = trainer_cls.train

    def slow_train(self):
        time.sleep(0.35)
        return fast_train(self)

    monkeypatch.setattr(trainer_cls, "train", slow_train)
    code, out, err = run_cli(
        capsys, "train", "--run", "PPO", "--env", "CartPole-v1", "--config", TINY,
        "--stop", '{"training_iteration": 3}', "--local-dir", str(tmp_path),
    )  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    assert [RESULT_LINE.match(line).groups() for line in lines if RESULT_LINE.match(line)] == [
        ("1", "3"),
        ("2", "3"),
        ("3", "3"),
    ]
    assert any(line.startswith("iter 2 running for ") for line in lines)
    (logdir,) = (tmp_path / "default").iterdir()
    checkpoint = logdir / "checkpoint_000003"
    next_steps = lines[lines.index("Next:") + 1 :]
    assert next_steps[0] == f"  plugrl plot {logdir}"
    assert next_steps[1].startswith(f"  tensorboard --logdir {logdir}")
    assert next_steps[2:] == [f"  plugrl rollout {checkpoint}"]
    time.sleep(0.3)
    assert capsys.readouterr() == ("", ""), "nothing is printed after the run"


def _run_in_terminal(args: list[str], timeout: float = 240) -> str:
    """Run ``plugrl ARGS`` with its output on a pseudo-terminal; what it wrote."""
    import fcntl
    import pty
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TTY_INTERACTIVE")}
    env.update(TERM="xterm-256color", PYTHONIOENCODING="utf-8", COLUMNS="100", LINES="40")
    proc = subprocess.Popen(
        [sys.executable, "-m", "plugrl", *args],
        stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True,
    )  # fmt: skip
    os.close(follower)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the terminal closed: the command ended
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            elif proc.poll() is not None:
                break
    finally:
        os.close(leader)
        proc.kill() if proc.poll() is None else None
        proc.wait()
    output = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, output[-3000:]
    return output


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_live_view_in_a_terminal(tmp_path):
    screen = _run_in_terminal(
        ["train", "--run", "PPO", "--env", "CartPole-v1", "--config", TINY,
         "--stop", '{"training_iteration": 3}', "--local-dir", str(tmp_path)]
    )  # fmt: skip
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)  # drop colours and cursor moves
    assert "\x1b[" in screen, "the view redraws itself in place"
    last_frame = text[text.rindex("PPO on CartPole-v1") : text.index("Results:")]
    expected = [
        r"iteration\s+3/3",
        r"timesteps\s+384",
        r"reward\s+[\d.]+\s+\(min [\d.]+, max [\d.]+\)",
        r"speed\s+[\d,]+ steps/s",
        r"elapsed\s+[\d.]+s",
        r"ETA\s+met: training_iteration >= 3",
        r"progress\s+\S+ 100%",
    ]
    for pattern in expected:
        assert re.search(pattern, last_frame), (pattern, last_frame)
    iterations = re.findall(r"iter (\d)/3  steps [^\n]*? ETA (\d+\.\d)s", text)
    assert [i for i, _ in iterations] == ["1", "2", "3"], text[-3000:]  # each with its ETA
    assert "Next:" in text and "plugrl rollout" in text
