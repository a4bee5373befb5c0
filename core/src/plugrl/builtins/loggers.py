"""Result sinks: result.json (a JSON object a line), progress.csv and TensorBoard events."""

from __future__ import annotations

import csv
import json
import math
import numbers
from pathlib import Path
from typing import Any

from plugrl.hookspecs import hookimpl
from plugrl.jsonable import flatten, to_jsonable


class JsonSink:
    """Appends each result to ``result.json``."""

    def __init__(self, logdir: str, config: dict):
        self._file = open(Path(logdir) / "result.json", "a")  # noqa: SIM115

    def on_result(self, result: dict) -> None:
        self._file.write(json.dumps(to_jsonable(result)) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class CSVSink:
    """Writes scalar results to ``progress.csv``; the columns are fixed by the first result."""

    def __init__(self, logdir: str, config: dict):
        self._path = Path(logdir) / "progress.csv"
        self._file = open(self._path, "a", newline="")  # noqa: SIM115
        self._writer: csv.DictWriter | None = None

    def on_result(self, result: dict) -> None:
        row = {k: v for k, v in flatten(to_jsonable(result)).items() if not isinstance(v, list)}
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=list(row), extrasaction="ignore")
            if self._path.stat().st_size == 0:
                self._writer.writeheader()
        self._writer.writerow(row)
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class TensorBoardSink:
    """Writes every finite numeric result as a TensorBoard scalar, stepped by
    ``timesteps_total``."""

    def __init__(self, logdir: str, config: dict):
        from tensorboardX import SummaryWriter

        self._writer = SummaryWriter(logdir, flush_secs=30)

    def on_result(self, result: dict) -> None:
        step = int(result.get("timesteps_total") or result.get("training_iteration") or 0)
        for key, value in flatten(result).items():
            if (
                isinstance(value, numbers.Number)
                and not isinstance(value, bool)
                and math.isfinite(value)
            ):
                self._writer.add_scalar(f"plugrl/{key}", float(value), global_step=step)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


@hookimpl
def register_loggers(register: Any) -> None:
    register("json", JsonSink)
    register("csv", CSVSink)
    register("tensorboard", TensorBoardSink)
