"""JsonReader: batches from files of one JSON batch per line (what JsonWriter writes, or
plain files written by hand), on any fsspec file system."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from plugrl.errors import ConfigError, OfflineDataError
from plugrl.offline.codec import CorruptLine, decode_line
from plugrl.offline.io_context import IOContext
from plugrl.sample_batch import SampleBatch

logger = logging.getLogger("plugrl")

BAD_LINE_ACTIONS = ("skip", "raise")
_GLOB_CHARS = frozenset("*?[")


class InputReader:
    """Where a worker's batches come from instead of its envs: :meth:`next` returns one.

    A reader that sees whole episodes (a policy server) reports them with
    :meth:`get_metrics`; one that holds something (files, a port) releases it in
    :meth:`close`, which the worker calls when it stops. A reader written from scratch needs
    only ``next()``.
    """

    def next(self) -> SampleBatch:
        raise NotImplementedError

    def get_metrics(self) -> list[Any]:
        """Episodes completed since the last call, as
        :class:`~plugrl.sampling.metrics.RolloutMetrics` (they count in the results' episode
        metrics)."""
        return []

    def close(self) -> None:
        """Release what the reader holds."""


class JsonReader(InputReader):
    """Reads the batches of ``inputs``: a folder (its ``*.json`` files), a glob, a file, or a
    list of those, as paths or fsspec URLs (``s3://bucket/logs/*.json``, ``memory://...``).

    The files are read one after another, each line by line, in an order drawn at random for
    each worker (from the config's ``seed`` and the worker index), then again in a new order.
    A line that is not a batch is reported with its file and line number, then skipped
    (``on_bad_line="skip"``, with a warning) or raised as an :class:`OfflineDataError`.

    Args:
        inputs: what to read.
        ioctx: the worker's :class:`IOContext`.
        on_bad_line: ``"skip"`` or ``"raise"``.
    """

    def __init__(
        self,
        inputs: str | Sequence[str],
        ioctx: IOContext | None = None,
        on_bad_line: str = "skip",
    ):
        if on_bad_line not in BAD_LINE_ACTIONS:
            raise ConfigError(
                f"on_bad_line must be one of {BAD_LINE_ACTIONS}, got {on_bad_line!r}."
            )
        self.ioctx = ioctx or IOContext()
        self.on_bad_line = on_bad_line
        self.files = expand_inputs(inputs)
        seed = self.ioctx.config.get("seed")
        self._rng = np.random.default_rng(None if seed is None else [seed, self.ioctx.worker_index])
        self._order: list[str] = []
        self._lines: Any = None
        self._current = ""
        self._line_number = 0
        self.num_bad_lines = 0

    def next(self) -> SampleBatch:
        """The next batch; an :class:`OfflineDataError` when a whole pass found none."""
        tried_since_batch = 0
        while True:
            line = self._next_line()
            if line is None:  # the end of a file
                tried_since_batch += 1
                if tried_since_batch > len(self.files):
                    raise OfflineDataError(
                        f"input: none of the {len(self.files)} files holds a batch that can be "
                        f"read (e.g. {self.files[0]!r}); give files written by output, or "
                        "JSON objects of columns, one per line."
                    )
                continue
            if not line.strip():
                continue
            try:
                batch = decode_line(line)
            except CorruptLine as exc:
                self._bad_line(str(exc))
                continue
            if batch.count:
                return batch

    def _next_line(self) -> str | None:
        """The next line of the current file; None at its end (the next file is opened)."""
        if self._lines is None:
            if not self._order:
                self._order = list(self._rng.permutation(self.files))
            self._open(self._order.pop())
        raw = self._lines.readline()
        if not raw:
            self._lines.close()
            self._lines = None
            return None
        self._line_number += 1
        if not raw.endswith(b"\n"):  # a writer stopped in the middle of this line
            self._bad_line("cut short (the file ends in the middle of the line)")
            return ""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self._bad_line("not UTF-8 text")
            return ""

    def _open(self, filename: str) -> None:
        import fsspec

        try:
            self._lines = fsspec.open(filename, "rb").open()
        except OSError as exc:
            raise OfflineDataError(f"input: cannot read {filename!r} ({exc}).") from None
        self._current = filename
        self._line_number = 0

    def _bad_line(self, reason: str) -> None:
        self.num_bad_lines += 1
        where = f"{self._current}, line {self._line_number}"
        if self.on_bad_line == "raise":
            raise OfflineDataError(
                f"input: {where} is not a batch: {reason}. Fix or remove the line, or set "
                "input_config: {on_bad_line: skip} to skip such lines."
            )
        logger.warning("input: skipping %s: %s.", where, reason)

    def close(self) -> None:
        if self._lines is not None:
            self._lines.close()
            self._lines = None


def expand_inputs(inputs: str | Sequence[str]) -> list[str]:
    """The files ``inputs`` names (folders as their ``*.json`` files, globs expanded), as
    URLs fsspec opens; an :class:`OfflineDataError` when there are none or one is missing."""
    import fsspec

    names = [inputs] if isinstance(inputs, str | os.PathLike) else list(inputs)
    files: list[str] = []
    for name in names:
        name = os.path.expanduser(str(name))
        fs, path = fsspec.core.url_to_fs(name)
        if _GLOB_CHARS & set(path):
            found = sorted(fs.glob(path))
        elif fs.isdir(path):
            found = sorted(fs.glob(f"{path.rstrip('/')}/*.json"))
        elif fs.isfile(path):
            found = [path]
        else:
            raise OfflineDataError(
                f"input: {name!r} does not exist; give a folder of JSON files, a glob, a file "
                "or a list of them."
            )
        if not found:
            raise OfflineDataError(f"input: {name!r} holds no JSON files (*.json).")
        files.extend(fs.unstrip_protocol(f) for f in found)
    return files
