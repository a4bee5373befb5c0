"""Live training progress: one line per iteration, at most a few lines a second."""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO


def _num(value: Any, fmt: str = ".1f") -> str:
    if isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        return format(value, fmt)
    return "-"


def format_result(result: dict[str, Any]) -> str:
    """One line: iteration, timesteps, mean (min/max) episode reward, steps/s and elapsed time."""
    this_iter = result.get("time_this_iter_s") or 0.0
    steps = result.get("timesteps_this_iter") or 0
    rate = steps / this_iter if this_iter > 0 else float("nan")
    line = (
        f"iter {result.get('training_iteration', 0):>5}"
        f"  steps {result.get('timesteps_total', 0):>9}"
        f"  reward {_num(result.get('episode_reward_mean')):>8}"
        f" ({_num(result.get('episode_reward_min'))}/{_num(result.get('episode_reward_max'))})"
        f"  {_num(rate, '.0f'):>6} steps/s"
        f"  elapsed {_num(result.get('time_total_s'))}s"
    )
    evaluation = result.get("evaluation")
    if isinstance(evaluation, dict):
        line += f"  eval reward {_num(evaluation.get('episode_reward_mean'))}"
    return line


class ProgressPrinter:
    """Prints :func:`format_result` lines, throttled to one per ``min_interval_s`` seconds.

    Call :meth:`finish` at the end so the last result is always shown.
    """

    def __init__(self, stream: TextIO | None = None, min_interval_s: float = 0.5):
        self.stream = stream or sys.stdout
        self.min_interval_s = min_interval_s
        self._last_print = -math.inf
        self._pending: dict[str, Any] | None = None

    def update(self, result: dict[str, Any]) -> None:
        """Show ``result`` unless a line was printed less than ``min_interval_s`` ago."""
        now = time.monotonic()
        if now - self._last_print >= self.min_interval_s:
            self._print(result)
            self._last_print = now
            self._pending = None
        else:
            self._pending = result

    def finish(self) -> None:
        """Print the last result if it was held back by the throttle."""
        if self._pending is not None:
            self._print(self._pending)
            self._pending = None

    def _print(self, result: dict[str, Any]) -> None:
        self.stream.write(format_result(result) + "\n")
        self.stream.flush()
