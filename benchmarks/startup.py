"""Start-up time, each figure the best and the median of fresh processes:

- ``plugrl --help``: the whole command, start to exit;
- process start -> PPO trainer built: the tuned CartPole example (torch), built, not trained;
- process start -> Stable-Baselines3's PPO built (``PPO("MlpPolicy", make_vec_env("CartPole-v1",
  n_envs=8))``), run by a Python that has it installed;
- process start -> torch imported: the floor under both;
- process start -> torch imported and its first ``torch.optim`` optimizer built, run by SB3's
  Python when one is given: the floor under SB3 (that optimizer imports ``torch._dynamo``;
  plugrl's Adam does not, see ``plugrl_torch.optim``).

Besides wall seconds, each figure gives the process's CPU seconds at that moment: on a shared
machine they wander less than the wall time. A first run of each (not counted) warms the disk
cache and writes the bytecode cache.

Run: ``.venv/bin/python benchmarks/startup.py [--sb3-python PATH] [--repeats N]``. Not part of
the tests: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

PPO_EXAMPLE = (
    Path(__file__).parents[1] / "plugins/ppo/src/plugrl_ppo/tuned_examples/cartpole-ppo.yaml"
)

# Each script prints when, and after how much CPU, what it builds is ready.
_READY = 'print(json.dumps({"at": time.time(), "cpu": time.process_time()}), flush=True)'

PLUGRL_PPO = f"""
import json, tempfile, time
from plugrl.testing import tuned_example

trainer_class, config = tuned_example({str(PPO_EXAMPLE)!r})
with tempfile.TemporaryDirectory() as logdir:
    trainer = trainer_class(config=config, logdir=logdir)
    {_READY}
    trainer.stop()
"""

SB3_PPO = f"""
import json, time
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

PPO("MlpPolicy", make_vec_env("CartPole-v1", n_envs=8))
{_READY}
"""

TORCH_IMPORT = f"""
import json, time
import torch
{_READY}
"""

TORCH_OPTIMIZER = TORCH_IMPORT.replace(
    _READY, f"torch.optim.Adam([torch.zeros(1, requires_grad=True)])\n{_READY}"
)


def _environment() -> dict[str, str]:
    """This process's environment, writing bytecode caches (as Python does by default)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _command_time(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of ``argv`` from start to exit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=_environment())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _ready_time(python: str, script: str) -> tuple[float, float]:
    """Wall and CPU seconds from starting ``python -c script`` to the moment it says it is
    ready (its last line of output: the ``_READY`` stamp)."""
    start = time.time()
    done = subprocess.run(
        [python, "-c", script], check=True, capture_output=True, text=True, env=_environment()
    )
    ready = json.loads(done.stdout.strip().splitlines()[-1])
    return ready["at"] - start, ready["cpu"]


def _summary(samples: list[tuple[float, float]]) -> dict[str, float]:
    walls, cpus = [s[0] for s in samples], [s[1] for s in samples]
    return {
        "best_s": round(min(walls), 3),
        "median_s": round(statistics.median(walls), 3),
        "cpu_best_s": round(min(cpus), 3),
    }


def _repeat(measure, repeats: int) -> dict[str, float]:
    measure()  # warm-up, not counted
    return _summary([measure() for _ in range(repeats)])


def _plugrl_command() -> list[str]:
    """The ``plugrl`` console script beside this Python, else ``python -m plugrl``."""
    script = Path(sys.executable).with_name("plugrl")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "plugrl"]


def measure_startup(sb3_python: str | None, repeats: int = 5) -> dict:
    """Start-up figures (see the module docstring), each ``{"best_s", "median_s",
    "cpu_best_s"}`` over ``repeats`` fresh processes.

    Args:
        sb3_python: a Python interpreter with Stable-Baselines3 installed; None skips SB3's
            figure (it is then ``None``).
        repeats: processes per figure, after one warm-up run.
    """
    help_argv = [*_plugrl_command(), "--help"]
    return {
        "plugrl --help": _repeat(lambda: _command_time(help_argv), repeats),
        "plugrl PPO trainer built": _repeat(
            lambda: _ready_time(sys.executable, PLUGRL_PPO), repeats
        ),
        "Stable-Baselines3 PPO built": (
            _repeat(lambda: _ready_time(sb3_python, SB3_PPO), repeats) if sb3_python else None
        ),
        "torch imported": _repeat(lambda: _ready_time(sys.executable, TORCH_IMPORT), repeats),
        "torch imported, first torch.optim optimizer built": _repeat(
            lambda: _ready_time(sb3_python or sys.executable, TORCH_OPTIMIZER), repeats
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sb3-python", help="a Python with Stable-Baselines3 installed")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(json.dumps(measure_startup(args.sb3_python, args.repeats), indent=2))


if __name__ == "__main__":
    main()
