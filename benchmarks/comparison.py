"""plugrl beside Stable-Baselines3, figure by figure, in one run: start-up, sampling
throughput, time to a mean return of 450 (PPO, A2C, DQN) and peak memory. Every figure comes
from fresh processes (``plugrl_side.py`` here, ``sb3_side.py`` in SB3's own environment),
one at a time; the table ends with the ratio plugrl / SB3 and the aim of issue 16."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent


def run_side(python: str, script: str, *args: object) -> dict:
    """One JSON result of ``script`` (a ``*_side.py``) run by ``python``."""
    command = [python, str(HERE / script), *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass
class Row:
    figure: str
    plugrl: str
    sb3: str
    ratio: float | None
    aim: str


@dataclass
class Comparison:
    """Runs both sides and collects the table's rows."""

    sb3_python: str | None
    seeds: list[int]
    rows: list[Row] = field(default_factory=list)
    ppo_rss: dict[str, float] = field(default_factory=dict)
    sb3_runs: dict[str, list] = field(default_factory=dict)

    def sb3(self, *args: object) -> dict | None:
        return run_side(self.sb3_python, "sb3_side.py", *args) if self.sb3_python else None

    def add(self, figure: str, ours: str, theirs: str | None, ratio: float | None, aim: str):
        self.rows.append(Row(figure, ours, theirs or "not run", ratio, aim))
        shown = "" if ratio is None else f" (plugrl / SB3 {ratio:.2f})"
        print(f"{figure}: plugrl {ours}; SB3 {theirs or 'not run'}{shown}", flush=True)

    def startup(self, measured: dict) -> None:
        """Rows from ``startup.measure_startup`` (medians of fresh processes)."""
        ours, theirs = measured["plugrl PPO trainer built"], measured["Stable-Baselines3 PPO built"]
        torch_s = measured["torch imported"]["median_s"]
        optimizer_s = measured["torch imported, first torch.optim optimizer built"]["median_s"]
        self.add(
            f"process start -> PPO trainer built, median (torch import alone: {torch_s:.2f} s; "
            f"with a first torch.optim optimizer, in SB3's environment: {optimizer_s:.2f} s)",
            f"{ours['median_s']:.2f} s",
            theirs and f"{theirs['median_s']:.2f} s",
            theirs and ours["median_s"] / theirs["median_s"],
            "under 0.5",
        )
        help_s = measured["plugrl --help"]["median_s"]
        self.add("`plugrl --help`, median", f"{help_s:.2f} s", "-", None, "under 0.5 s")

    def sampling(self, num_envs: int, limit: float, repeats: int = 5) -> None:
        args = ("sampling", "--num-envs", num_envs, "--hiddens", 64, 64, "--repeats", repeats)
        ours = run_side(sys.executable, "plugrl_side.py", *args)["rates"]
        theirs = self.sb3(*args)
        theirs = theirs and theirs["rates"]

        def spread(rates: list[float]) -> str:
            low, mid, high = min(rates), statistics.median(rates), max(rates)
            return f"{low:,.0f} / {mid:,.0f} / {high:,.0f} ({mid / limit:.0%} of the limit)"

        self.add(
            f"env steps/s, PPO policy [64,64], {num_envs} env(s), min / median / max "
            f"(raw limit {limit:,.0f})",
            spread(ours),
            theirs and spread(theirs),
            theirs and statistics.median(ours) / statistics.median(theirs),
            "80% of the raw limit" if num_envs > 1 else "as close as possible",
        )

    def time_to_450(self, algorithm: str, budget: int, aim: str, peer: str | None = None) -> None:
        """Median over the seeds of the seconds to 450 (nan: not reached in ``budget``), or
        the slowest seed beside another algorithm; the peer is SB3's ``peer`` algorithm (its
        own by default; runs of it are reused). Each seed's plugrl run is followed by SB3's of
        the same seed, so this machine's drifting speed weighs on both sides alike."""
        peer = peer or algorithm
        measure_peer = peer not in self.sb3_runs and self.sb3_python is not None
        ours, peer_runs = [], []
        for seed in self.seeds:
            ours.append(self._ours(algorithm, seed, budget))
            if measure_peer:
                peer_runs.append(self._theirs(peer, seed, budget))
        if measure_peer:
            self.sb3_runs[peer] = peer_runs
        theirs = self.sb3_runs.get(peer)
        seeds = ", ".join(map(str, self.seeds))
        # beside another algorithm every seed must make it: the slowest one counts
        slowest = peer != algorithm
        label = f"{algorithm} to 450, median of seeds {seeds}"
        if slowest:
            label = f"{algorithm} to 450, slowest of seeds {seeds} (beside SB3's {peer} median)"
        ratio = headline(ours, slowest) / headline(theirs) if theirs else None
        self.add(label, times(ours, slowest), theirs and times(theirs), ratio, aim)

    def peak_rss(self) -> None:
        ours, theirs = self.ppo_rss.get("plugrl"), self.ppo_rss.get("sb3")
        self.add(
            "peak RSS of a PPO run (largest over the seeds)",
            f"{ours:.0f} MiB",
            None if theirs is None else f"{theirs:.0f} MiB",
            None if theirs is None else ours / theirs,
            "at most SB3's (1.00)",
        )

    def _ours(self, algorithm: str, seed: int, budget: int) -> tuple[float, int]:
        out = run_side(
            sys.executable,
            "plugrl_side.py",
            "time-to",
            algorithm,
            "--seed",
            seed,
            "--budget",
            budget,
        )
        if algorithm == "PPO":
            self.ppo_rss["plugrl"] = max(self.ppo_rss.get("plugrl", 0.0), out["peak_rss_mib"])
        return tuple(out["reached"][0])

    def _theirs(self, algorithm: str, seed: int, budget: int) -> tuple[float, int]:
        out = self.sb3("time-to", algorithm, "--seed", seed, "--budget", budget)
        if algorithm == "PPO":
            self.ppo_rss["sb3"] = max(self.ppo_rss.get("sb3", 0.0), out["peak_rss_mib"])
        return tuple(out["reached"][0])

    def print_table(self) -> None:
        print("\n| figure | plugrl | Stable-Baselines3 | plugrl / SB3 | aim |")
        print("|---|---|---|---|---|")
        for row in self.rows:
            ratio = "-" if row.ratio is None or math.isnan(row.ratio) else f"{row.ratio:.2f}"
            ratio = "never" if ratio == "inf" else ratio
            print(f"| {row.figure} | {row.plugrl} | {row.sb3} | {ratio} | {row.aim} |")


def _seconds(value: float) -> float:
    """Seconds to the threshold, a run that never got there (nan) counted as infinitely slow."""
    return math.inf if math.isnan(value) else value


def headline(runs: list[tuple[float, int]], slowest: bool = False) -> float:
    """The median (or the slowest) of the runs' seconds to the threshold (inf: never)."""
    seconds = [_seconds(s) for s, _ in runs]
    return max(seconds) if slowest else statistics.median(seconds)


def times(runs: list[tuple[float, int]], slowest: bool = False) -> str:
    """:func:`headline`, then each run's seconds and steps."""
    each = ", ".join(
        "never" if math.isnan(s) else f"{s:.1f} s ({steps // 1000}k)" for s, steps in runs
    )
    shown = headline(runs, slowest)
    return f"{'never' if math.isinf(shown) else f'{shown:.1f} s'} (seeds: {each})"
