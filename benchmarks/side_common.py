"""What ``plugrl_side.py`` and ``sb3_side.py`` share: their command line, the peak RSS and the
timers (the other benchmark scripts use the timers too). Imports neither plugrl nor
Stable-Baselines3 (each side runs in its own environment)."""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from collections.abc import Callable


def peak_rss_mib() -> float:
    """The largest resident set size this process has had, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rates(collect: Callable[[], int], repeats: int, steps: int) -> list[float]:
    """Steps/s of ``collect()`` (which returns the steps it took), once per repeat of at least
    ``steps`` steps, after one warm-up call."""
    collect()
    out = []
    for _ in range(repeats):
        done, begin = 0, time.perf_counter()
        while done < steps:
            done += collect()
        out.append(done / (time.perf_counter() - begin))
    return out


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds of ``fn()`` over ``repeats`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(doc: str | None, algorithms: list[str], time_to: Callable, sampling: Callable) -> None:
    """Parse ``time-to ALGO ...`` or ``sampling ...``, run it, print its result as JSON."""
    parser = argparse.ArgumentParser(description=doc)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("time-to")
    run.add_argument("algorithm", choices=algorithms)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--thresholds", type=float, nargs="+", default=[450.0])
    run.add_argument("--budget", type=int, default=500_000)
    run.add_argument("--set", nargs="*", default=[], help="config overrides, key=json")
    sample = commands.add_parser("sampling")
    sample.add_argument("--num-envs", type=int, default=8)
    sample.add_argument("--hiddens", type=int, nargs="+", default=[64, 64])
    sample.add_argument("--repeats", type=int, default=5)
    sample.add_argument("--steps", type=int, default=8000)
    args = parser.parse_args()
    if args.command == "time-to":
        overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
        out = time_to(args.algorithm, args.thresholds, args.seed, args.budget, **overrides)
    else:
        out = sampling(args.num_envs, args.hiddens, args.repeats, args.steps)
    print(json.dumps(out))
