"""Result sinks: result.json (a JSON object a line), progress.csv and TensorBoard events."""

from __future__ import annotations

import csv
import itertools
import json
import math
import numbers
import os
import sys
import time
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
    """Writes scalar results to ``progress.csv``, one row per result. A key first seen in a
    later result (custom metrics, evaluation) adds a column: the file is rewritten with the
    wider header, earlier rows keeping empty cells there."""

    def __init__(self, logdir: str, config: dict):
        self._path = Path(logdir) / "progress.csv"
        self._fields: list[str] = []
        if self._path.exists():
            with open(self._path, newline="") as file:
                self._fields = next(csv.reader(file), [])

    def on_result(self, result: dict) -> None:
        row = {k: v for k, v in flatten(to_jsonable(result)).items() if not isinstance(v, list)}
        new = [key for key in row if key not in self._fields]
        if new or not self._fields:
            self._fields += new
            self._rewrite_with_header()
        with open(self._path, "a", newline="") as file:
            csv.DictWriter(file, self._fields).writerow(row)

    def _rewrite_with_header(self) -> None:
        rows = []
        if self._path.exists():
            with open(self._path, newline="") as file:
                rows = list(csv.DictReader(file))
        tmp = self._path.with_suffix(".csv.tmp")
        with open(tmp, "w", newline="") as file:
            writer = csv.DictWriter(file, self._fields)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, self._path)

    def close(self) -> None:
        """Nothing to release: each row is written and closed at once."""


def _is_wall_clock(key: str) -> bool:
    """``timestamp``-like keys: a Unix time is no curve, and float32 (TensorBoard's scalars)
    rounds it to steps of 128 s; each event records its wall time anyway."""
    name = key.rsplit("/", 1)[-1]
    return name == "timestamp" or name.endswith("_timestamp")


class TensorBoardSink:
    """Writes every finite numeric result as TensorBoard scalars, stepped by
    ``timesteps_total``: one event per result, written and flushed before ``on_result``
    returns. Wall-clock keys (``timestamp``) are left to result.json and progress.csv, which
    keep them exact."""

    def __init__(self, logdir: str, config: dict):
        events_writer, self._event, self._summary = _tensorboardx()
        # the file is named by the second it was opened: the suffix keeps a sink opened on the
        # same logdir within that second (a trial restarted at once) from overwriting it
        suffix = f".{os.getpid()}.{next(_sinks_opened)}"
        self._writer = events_writer(str(Path(logdir) / "events"), suffix)

    def on_result(self, result: dict) -> None:
        step = int(result.get("timesteps_total") or result.get("training_iteration") or 0)
        scalars = [
            self._summary.Value(tag=f"plugrl/{key}", simple_value=float(value))
            for key, value in flatten(result).items()
            if isinstance(value, numbers.Number)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and not _is_wall_clock(key)
        ]
        if not scalars:
            return
        summary = self._summary(value=scalars)
        self._writer.write_event(self._event(wall_time=time.time(), step=step, summary=summary))
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


_sinks_opened = itertools.count()


def _tensorboardx() -> tuple[type, type, type]:
    """tensorboardX's event-file writer and its Event and Summary protos. tensorboardX imports
    torch, if installed, only to accept its tensors, which results never hold: where torch is
    not imported yet (a TensorFlow trainer), it is kept out, which saves seconds."""
    hide_torch = "torch" not in sys.modules
    if hide_torch:
        sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` fails at once
    try:
        from tensorboardX.event_file_writer import EventsWriter
        from tensorboardX.proto.event_pb2 import Event
        from tensorboardX.proto.summary_pb2 import Summary
    finally:
        if hide_torch:
            del sys.modules["torch"]
    return EventsWriter, Event, Summary


class NullSink:
    """The sink of a trainer whose results go elsewhere (or nowhere): writes nothing."""

    def __init__(self, logdir: str):
        self.logdir = logdir

    def on_result(self, result: dict) -> None:
        """Results are not written."""

    def close(self) -> None:
        """Nothing to release."""


@hookimpl
def register_loggers(register: Any) -> None:
    register("json", JsonSink)
    register("csv", CSVSink)
    register("tensorboard", TensorBoardSink)
