"""JsonWriter: experiences to files of one JSON batch per line, on any fsspec file system."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Collection
from typing import Any

from plugrl.errors import ConfigError
from plugrl.offline.codec import encode_batch
from plugrl.offline.io_context import IOContext
from plugrl.sample_batch import SampleBatch

logger = logging.getLogger("plugrl")

DEFAULT_COMPRESS_COLUMNS = ("obs", "new_obs")
DEFAULT_MAX_FILE_SIZE = 64 * 1024 * 1024


class OutputWriter:
    """Where a worker's sampled batches go: :meth:`write` each, :meth:`close` at the end."""

    def write(self, batch: SampleBatch) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Finish the current file (remote file systems upload it now)."""


class JsonWriter(OutputWriter):
    """Appends each batch as one line of JSON (:mod:`plugrl.offline.codec`) to
    ``<path>/output-<date>_<time>_worker-<i>_<n>.json``, starting file ``n + 1`` once a file
    holds ``max_file_size`` bytes.

    Each line is flushed (and, on a local disk, synced) when written, so a writer killed while
    writing leaves every earlier line whole. ``path`` is a folder or any fsspec URL
    (``s3://bucket/logs``, ``memory://...``; remote files appear when they are finished).

    Args:
        path: the folder to write into (created if missing).
        ioctx: the worker's :class:`IOContext` (its ``worker_index`` names the files).
        max_file_size: bytes after which the next file starts.
        compress_columns: columns written LZ4-compressed; ``()`` writes readable traces.
    """

    def __init__(
        self,
        path: str,
        ioctx: IOContext | None = None,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        compress_columns: Collection[str] = DEFAULT_COMPRESS_COLUMNS,
    ):
        import fsspec

        self.ioctx = ioctx or IOContext()
        self.max_file_size = max_file_size
        self.compress_columns = frozenset(compress_columns)
        self.fs, self.path = fsspec.core.url_to_fs(os.path.expanduser(str(path)))
        self._local = "file" in self.fs.protocol
        try:
            self.fs.makedirs(self.path, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"output: cannot create the folder {str(path)!r} ({exc.strerror or exc}); "
                "give a folder you can write to."
            ) from None
        self._stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
        self._file: Any = None
        self._file_index = 0
        self._bytes = 0
        self.files_written: list[str] = []

    def write(self, batch: SampleBatch) -> None:
        line = (encode_batch(batch, self.compress_columns) + "\n").encode("utf-8")
        if self._file is None or self._bytes >= self.max_file_size:
            self._next_file()
        self._file.write(line)
        self._file.flush()
        if self._local:
            os.fsync(self._file.fileno())
        self._bytes += len(line)

    def _next_file(self) -> None:
        self.close()
        while True:  # another writer (a trial, a run) may share the folder: never overwrite
            name = f"output-{self._stamp}_worker-{self.ioctx.worker_index}_{self._file_index}.json"
            self._file_index += 1
            filename = f"{self.path.rstrip('/')}/{name}"
            if not self.fs.exists(filename):
                break
        self._file = self.fs.open(filename, "wb")
        self._bytes = 0
        self.files_written.append(filename)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
