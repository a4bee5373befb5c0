"""plugrl soak benchmark: trains PPO on CartPole-v1 in a loop, first in-process and then with
2 Ray workers, samples resident memory after every iteration, and reports the RSS slope after
warm-up for the driver (and, with Ray, the remote workers together). Growth above 5% of the
warm-up RSS over the measured window is a bug to fix.

Run with ``make soak`` (30 minutes; ``--minutes 3`` for a quick check). Not part of the tests:
it always exits 0.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import tempfile
import time
from dataclasses import astuple, dataclass, fields

import numpy as np

from plugrl import get_trainer_class

CONFIG = {
    "env": "CartPole-v1",
    "num_envs_per_worker": 4,
    "rollout_fragment_length": 128,
    "train_batch_size": 1024,
    "sgd_minibatch_size": 256,
    "num_sgd_iter": 4,
    "model": {"fcnet_hiddens": [64, 64]},
    "seed": 0,
}
MAX_GROWTH = 0.05  # growth over the measured window, as a fraction of the warm-up RSS


@dataclass
class Sample:
    """Resident memory after one training iteration (``nan`` workers RSS in-process)."""

    phase: str
    elapsed_s: float
    iteration: int
    driver_rss_mib: float
    workers_rss_mib: float


def rss_mib(pid: int) -> float:
    """Resident set size of process ``pid`` in MiB, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS line in /proc/{pid}/status (is {pid} a zombie?)")


def soak(phase: str, num_workers: int, seconds: float) -> list[Sample]:
    """Train PPO with ``num_workers`` remote workers for ``seconds``, one sample per
    iteration (and one before the first)."""
    trainer_class = get_trainer_class("PPO")
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory() as logdir:
        trainer = trainer_class(config=dict(CONFIG, num_workers=num_workers), logdir=logdir)
        try:
            worker_pids = trainer.workers.foreach_worker(lambda w: os.getpid())[1:]
            start = time.monotonic()
            iteration = 0
            while True:
                elapsed = time.monotonic() - start
                workers = sum(rss_mib(pid) for pid in worker_pids) if worker_pids else math.nan
                samples.append(Sample(phase, elapsed, iteration, rss_mib(os.getpid()), workers))
                if elapsed >= seconds:
                    return samples
                trainer.train()
                iteration += 1
        finally:
            trainer.stop()


def measure(label: str, times: np.ndarray, rss: np.ndarray, warmup_s: float) -> str:
    """Print the series' RSS at the end of warm-up and at the end and its least-squares slope
    after warm-up; return the verdict on its growth over the measured window."""
    measured = times >= warmup_s
    if measured.sum() < 3:
        print(f"{label}: only {measured.sum()} samples after warm-up, no slope")
        return f"{label}: NO VERDICT (run longer)"
    t, r = times[measured], rss[measured]
    slope = np.polyfit(t / 3600, r, 1)[0]  # MiB/hour
    window_s = t[-1] - t[0]
    growth = slope * window_s / 3600 / r[0]
    print(
        f"{label}: {r[0]:.1f} MiB at end of warm-up ({t[0]:.0f} s), {r[-1]:.1f} MiB at end "
        f"({t[-1]:.0f} s), slope {slope:+.1f} MiB/h, growth {growth:+.1%} over {window_s:.0f} s "
        f"({len(t)} samples)"
    )
    if growth <= MAX_GROWTH:
        return f"{label}: OK (growth {growth:+.1%} <= {MAX_GROWTH:.0%})"
    return (
        f"{label}: LEAK? growth {growth:+.1%} > {MAX_GROWTH:.0%} "
        f"({slope:+.1f} MiB/h, {r[0]:.1f} -> {r[-1]:.1f} MiB in {window_s:.0f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30, help="both phases together")
    parser.add_argument(
        "--warmup-fraction", type=float, default=0.2, help="share of each phase left out"
    )
    parser.add_argument("--csv", help="write the raw samples to this CSV file")
    args = parser.parse_args()
    phase_s = args.minutes * 60 / 2
    warmup_s = phase_s * args.warmup_fraction
    print(f"soak: {phase_s:.0f} s per phase, first {warmup_s:.0f} s of each are warm-up")

    samples = soak("in-process", 0, phase_s)
    verdicts = [report(samples, "in-process", "driver", warmup_s)]  # before Ray can fail
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        ray_samples = soak("ray", 2, phase_s)
    finally:
        ray.shutdown()
    samples += ray_samples
    verdicts += [report(ray_samples, "ray", group, warmup_s) for group in ("driver", "workers")]
    print("\n".join(verdicts))
    if args.csv:
        with open(args.csv, "w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(f.name for f in fields(Sample))
            writer.writerows(astuple(s) for s in samples)
        print(f"raw samples: {args.csv}")


def report(samples: list[Sample], phase: str, group: str, warmup_s: float) -> str:
    """Measure one series (``group``: "driver" or "workers") of one phase's samples."""
    times = np.array([s.elapsed_s for s in samples])
    rss = np.array([getattr(s, f"{group}_rss_mib") for s in samples])
    what = "2 remote workers (sum)" if group == "workers" else "driver"
    return measure(f"PPO {phase}, {what}", times, rss, warmup_s)


if __name__ == "__main__":
    main()
