"""Training progress for ``plugrl train``: a live view in a terminal, plain lines otherwise.

In an interactive terminal (rich), each iteration's line scrolls up above a panel that
shows the latest result (iteration, timesteps, reward mean/min/max, steps/s, elapsed training
time, the last evaluation), a bar and an ETA towards the stop criteria, and how long the
running iteration has taken so far, redrawn a few times a second. Anywhere else (a pipe, a
file, ``TERM=dumb``, ``TTY_INTERACTIVE=0``) it prints exactly one line per iteration, and a
heartbeat line each ``heartbeat_s`` seconds while an iteration runs longer than that.

ETA: each stop criterion ``key >= target`` gives an estimate and the soonest is shown (the
criterion closest to being met, the one the bar follows):

- a counter that grows with training (``training_iteration``, ``timesteps_total``,
  ``episodes_total``) at the run's average rate, ``(target - value) * time_total_s / value``;
  ``time_total_s`` itself in ``target - value`` seconds. Its fraction done is value / target.
- any other key (a reward target) from the least-squares slope of its value against
  ``time_total_s`` over the last :data:`TREND_WINDOW` results; none while it is not rising.

Times are training times (``time_total_s``, which a restored run carries on), so checkpoint
saves and start-up are not counted.
"""

from __future__ import annotations

import math
import numbers
import sys
import threading
import time
from collections import deque
from datetime import timedelta
from typing import Any, TextIO

from plugrl.jsonable import flatten

# Seconds of silence after which a plain-output run says that an iteration is still running.
HEARTBEAT_S = 10.0
# Results over which a reward-like criterion's trend is fitted.
TREND_WINDOW = 10
# Stop keys that only grow, at a roughly steady rate per second of training.
COUNTERS = ("training_iteration", "timesteps_total", "episodes_total", "time_total_s")


def _num(value: Any, fmt: str = ".1f") -> str:
    """``value`` formatted, "-" when it is no number; "d" and "," print whole floats (a stop
    value read from YAML, ``1e5``) as integers."""
    if not _is_number(value):
        return "-"
    if fmt in ("d", ",") and math.isfinite(value) and float(value).is_integer():
        value = int(value)
    elif fmt == "d":
        fmt = "g"
    return format(value, fmt)


def _duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 60:
        return f"{max(seconds, 0.0):.1f}s"
    return str(timedelta(seconds=round(seconds)))


def _fit_slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of ``y`` against ``x``; None for fewer than two distinct ``x``."""
    if len(points) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    var = sum((x - mean_x) ** 2 for x, _ in points)
    if var <= 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var


class Estimate:
    """Where a run stands towards its stop criteria, from the results seen so far."""

    def __init__(self, stop: dict[str, Any]):
        self.stop = stop
        self._trends = {k: deque(maxlen=TREND_WINDOW) for k in stop if k not in COUNTERS}

    def add(self, flat: dict[str, Any]) -> None:
        """Take in one result (flattened with :func:`plugrl.jsonable.flatten`)."""
        elapsed = flat.get("time_total_s")
        for key, trend in self._trends.items():
            value = flat.get(key)
            if _is_number(value) and _is_number(elapsed):
                trend.append((float(elapsed), float(value)))

    def soonest(self, flat: dict[str, Any]) -> tuple[str, float | None, float | None] | None:
        """``(key, fraction done or None, seconds left or None)`` of the criterion expected to
        be met first (else the counter furthest along); None without criteria."""
        best: tuple[float, float, str, float | None, float | None] | None = None
        for key, target in self.stop.items():
            fraction, left = self._towards(key, target, flat)
            rank = (left if left is not None else math.inf, -(fraction or 0.0))
            if best is None or rank < best[:2]:
                best = (*rank, key, fraction, left)
        return None if best is None else best[2:]

    def _towards(
        self, key: str, target: float, flat: dict[str, Any]
    ) -> tuple[float | None, float | None]:
        value, elapsed = flat.get(key), flat.get("time_total_s")
        if not _is_number(value):
            return None, None
        if value >= target:
            return (1.0 if key in COUNTERS else None), 0.0
        if key in COUNTERS:
            fraction = min(max(value / target, 0.0), 1.0) if target > 0 else None
            if key == "time_total_s":
                return fraction, target - value
            if value > 0 and _is_number(elapsed) and elapsed > 0:
                return fraction, (target - value) * elapsed / value
            return fraction, None
        slope = _fit_slope(list(self._trends[key]))
        return None, ((target - value) / slope if slope and slope > 0 else None)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value)


def _of(flat: dict[str, Any], stop: dict[str, Any], key: str, fmt: str) -> str:
    """``value`` or ``value/target``, when ``key`` is a stop criterion."""
    text = _num(flat.get(key), fmt)
    return f"{text}/{_num(stop[key], fmt)}" if key in stop else text


def format_result(
    result: dict[str, Any], stop: dict[str, Any] | None = None, eta: float | None = None
) -> str:
    """One line: iteration, timesteps, mean (min/max) episode reward, steps/s, elapsed time,
    the ETA and the evaluation's mean reward (each counter with its stop target)."""
    stop = stop or {}
    flat = flatten(result)
    steps = _of(flat, stop, "timesteps_total", ",")
    if "timesteps_total" in stop and _is_number(flat.get("timesteps_total")):
        steps += f" ({min(flat['timesteps_total'] / max(stop['timesteps_total'], 1), 1):.0%})"
    line = (
        f"iter {_of(flat, stop, 'training_iteration', 'd')}"
        f"  steps {steps}"
        f"  reward {_num(flat.get('episode_reward_mean'))}"
        f" ({_num(flat.get('episode_reward_min'))}/{_num(flat.get('episode_reward_max'))})"
        f"  {_num(_rate(flat), ',.0f')} steps/s"
        f"  elapsed {_elapsed(flat, stop)}"
    )
    if stop:
        line += f"  ETA {_duration(eta)}"
    if _is_number(flat.get("evaluation/episode_reward_mean")):
        line += f"  eval reward {_num(flat['evaluation/episode_reward_mean'])}"
    return line


def _elapsed(flat: dict[str, Any], stop: dict[str, Any]) -> str:
    text = _duration(flat.get("time_total_s"))
    return f"{text}/{_duration(stop['time_total_s'])}" if "time_total_s" in stop else text


def _rate(flat: dict[str, Any]) -> float | None:
    seconds, steps = flat.get("time_this_iter_s"), flat.get("timesteps_this_iter")
    if _is_number(seconds) and _is_number(steps) and seconds > 0:
        return steps / seconds
    return None


class TrainingProgress:
    """Shows a run's progress from :meth:`update` calls; a context manager (entering starts
    the view, leaving stops it: nothing is printed after that).

    Args:
        stop: the stop criteria, for the targets, fractions and ETA.
        title: what runs, e.g. ``"PPO on CartPole-v1"``.
        iteration: the trainer's iteration before the first ``train()`` (a restored run's).
        stream: where to write (default ``sys.stdout``); live only if it is a terminal.
        heartbeat_s: seconds between heartbeat lines in plain output (default
            :data:`HEARTBEAT_S`).
    """

    def __init__(
        self,
        stop: dict[str, Any],
        *,
        title: str = "",
        iteration: int = 0,
        stream: TextIO | None = None,
        heartbeat_s: float | None = None,
    ):
        from rich.console import Console

        self.stop = dict(stop)
        self.title = title
        self.stream = stream or sys.stdout
        self.heartbeat_s = HEARTBEAT_S if heartbeat_s is None else heartbeat_s
        self._console = Console(file=self.stream, highlight=False)
        self.live = bool(_isatty(self.stream) and self._console.is_interactive)
        self._estimate = Estimate(self.stop)
        self._flat: dict[str, Any] = {}
        self._eval: tuple[int, dict[str, Any]] | None = None
        self._soonest: tuple[str, float | None, float | None] | None = None
        self._iteration = iteration
        self._iteration_started = self._last_line = time.monotonic()
        self._running = False
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._live_view: Any = None
        self._spinner: Any = None

    def __enter__(self) -> TrainingProgress:
        self._running = True
        self._iteration_started = self._last_line = time.monotonic()
        if self.live:
            from rich.live import Live
            from rich.spinner import Spinner

            self._spinner = Spinner("dots")
            self._live_view = Live(
                console=self._console, get_renderable=self._panel, refresh_per_second=4
            )
            self._live_view.start()
        else:
            self._thread = threading.Thread(target=self._beat, name="plugrl-heartbeat")
            self._thread.daemon = True
            self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def update(self, result: dict[str, Any]) -> None:
        """Show one iteration's result."""
        flat = flatten(result)
        self._estimate.add(flat)
        soonest = self._estimate.soonest(flat)
        line = format_result(result, self.stop, soonest[2] if soonest else None)
        with self._lock:
            self._flat, self._soonest = flat, soonest
            self._iteration = int(flat.get("training_iteration") or self._iteration + 1)
            if isinstance(result.get("evaluation"), dict):
                self._eval = (self._iteration, flatten(result["evaluation"]))
            self._iteration_started = time.monotonic()
            if self._live_view is None:
                self._write(line)
        if self._live_view is not None:  # outside the lock, which the live view's thread takes
            self._live_view.console.print(line, markup=False)
            self._live_view.refresh()

    def close(self) -> None:
        """Stop the view (idempotent); the live panel stays on screen as last drawn."""
        with self._lock:
            self._running = False
            self._stopped.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._live_view is not None:
            self._live_view.stop()
            self._live_view = None

    # --- plain output -----------------------------------------------------------------------

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()
        self._last_line = time.monotonic()

    def _beat(self) -> None:
        """Heartbeat thread: a line after each ``heartbeat_s`` seconds without one."""
        while True:
            with self._lock:
                due = self._last_line + self.heartbeat_s
            if self._stopped.wait(max(due - time.monotonic(), 0.0)):
                return
            with self._lock:
                now = time.monotonic()
                if self._stopped.is_set():
                    return
                if now >= self._last_line + self.heartbeat_s:
                    running = _duration(now - self._iteration_started)
                    self._write(f"iter {self._iteration + 1} running for {running}")

    # --- live view --------------------------------------------------------------------------

    def _panel(self) -> Any:
        from rich.panel import Panel
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        with self._lock:
            flat, soonest, evaluation = self._flat, self._soonest, self._eval
            running, iteration = self._running, self._iteration
            waited = time.monotonic() - self._iteration_started
        stop = self.stop
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        grid.add_row("iteration", _of(flat, stop, "training_iteration", "d"))
        grid.add_row("timesteps", _of(flat, stop, "timesteps_total", ","))
        grid.add_row(
            "reward",
            f"{_of(flat, stop, 'episode_reward_mean', '.1f')}  (min "
            f"{_num(flat.get('episode_reward_min'))}, max {_num(flat.get('episode_reward_max'))})",
        )
        grid.add_row("speed", f"{_num(_rate(flat), ',.0f')} steps/s")
        grid.add_row("elapsed", _elapsed(flat, stop))
        if soonest is not None:
            key, fraction, left = soonest
            criterion = f"{key} >= {stop[key]}"
            grid.add_row(
                "ETA",
                f"met: {criterion}" if left == 0 else f"{_duration(left)}  (until {criterion})",
            )
            if fraction is not None:
                bar = Table.grid(padding=(0, 1))
                bar.add_row(ProgressBar(total=1.0, completed=fraction, width=30), f"{fraction:.0%}")
                grid.add_row("progress", bar)
        if evaluation is not None:
            at, result = evaluation
            grid.add_row(
                "evaluation",
                f"reward {_num(result.get('episode_reward_mean'))} (iteration {at})",
            )
        if running:
            status = Table.grid(padding=(0, 1))
            status.add_row(
                self._spinner, Text(f"iteration {iteration + 1} running for {_duration(waited)}")
            )
            grid.add_row("", status)
        return Panel(grid, title=Text(self.title) if self.title else None, expand=False)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
