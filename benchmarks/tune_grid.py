"""Tune against one-after-another: the PPO CartPole grid (3 learning rates x 2 seeds) run by
``plugrl train -f cartpole-ppo-grid.yaml`` under Ray Tune, then the same six configurations as
six ``plugrl train`` runs in a row. Prints each one's wall time, and each trial's steps and
best mean return.

Run with ``make bench-tune`` (``--timesteps N`` for a shorter budget). Not part of the tests:
the numbers depend on the machine and its load; it uses as many CPUs as Ray finds.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plugrl.results import find_trials, read_trial

GRID = (
    Path(__file__).parents[1] / "plugins/ppo/src/plugrl_ppo/tuned_examples/cartpole-ppo-grid.yaml"
)
LRS = (0.0005, 0.001, 0.002)
SEEDS = (0, 1)


def plugrl_train(*args: str) -> float:
    """Wall time of one ``plugrl train`` command (its output discarded unless it fails)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "plugrl", "train", *args], capture_output=True, text=True
    )
    if proc.returncode:
        sys.exit(f"plugrl train {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return time.perf_counter() - start


def trial_table(folder: Path) -> list[str]:
    rows = []
    for path in find_trials([folder]):
        trial = read_trial(path)
        best = max(r.get("episode_reward_mean", float("nan")) for r in trial.results)
        last = trial.results[-1]
        rows.append(
            f"  lr={trial.params.get('lr')!s:<7} seed={trial.params.get('seed')}  "
            f"steps={last['timesteps_total']:>7}  best reward={best:6.1f}"
        )
    return sorted(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timesteps", type=int, help="timesteps_total budget per trial")
    args = parser.parse_args()
    stop = ["--stop", json.dumps({"timesteps_total": args.timesteps})] if args.timesteps else []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tune_s = plugrl_train("-f", str(GRID), "--local-dir", str(root / "tune"), *stop)
        sequential_s = 0.0
        for lr, seed in itertools.product(LRS, SEEDS):
            sequential_s += plugrl_train(
                "-f", str(GRID), "--local-dir", str(root / "sequential"), *stop,
                "--config", json.dumps({"lr": lr, "seed": seed}),
            )  # fmt: skip
        print(f"Tune, 6 trials:              {tune_s:7.1f} s")
        print(*trial_table(root / "tune"), sep="\n")
        print(f"6 plugrl train runs in a row: {sequential_s:7.1f} s")
        print(*trial_table(root / "sequential"), sep="\n")
        print(f"speed-up: {sequential_s / tune_s:.2f}x")


if __name__ == "__main__":
    main()
