"""Inputs built from other inputs: a random mix of sources, and a shuffle buffer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from plugrl.errors import ConfigError
from plugrl.offline.io_context import IOContext
from plugrl.offline.json_reader import InputReader, JsonReader
from plugrl.sample_batch import SampleBatch


class MixedInput(InputReader):
    """Each :meth:`next` reads from one source drawn with the given probabilities.

    Args:
        dist: ``{source: probability}``; a source is ``"sampler"`` (the worker's envs), what
            :class:`JsonReader` reads (a folder, glob, file or list), or an
            :class:`InputReader`. The probabilities must add up to 1.
        ioctx: the worker's :class:`IOContext`.
        on_bad_line: for the JSON sources, see :class:`JsonReader`.
    """

    def __init__(
        self, dist: Mapping[Any, float], ioctx: IOContext | None = None, on_bad_line: str = "skip"
    ):
        ioctx = ioctx or IOContext()
        probabilities = [float(p) for p in dist.values()]
        if any(p < 0 for p in probabilities) or abs(sum(probabilities) - 1.0) > 1e-6:
            raise ConfigError(
                f"input: the probabilities of a mixed input must be >= 0 and add up to 1, got "
                f"{dict(dist)}."
            )
        self.readers = [_reader(source, ioctx, on_bad_line) for source in dist]
        self.probabilities = np.asarray(probabilities) / sum(probabilities)
        seed = ioctx.config.get("seed")
        self._rng = np.random.default_rng(None if seed is None else [seed, ioctx.worker_index, 1])

    def next(self) -> SampleBatch:
        index = self._rng.choice(len(self.readers), p=self.probabilities)
        return self.readers[index].next()

    def get_metrics(self) -> list[Any]:
        return [m for r in self.readers for m in getattr(r, "get_metrics", list)()]

    def close(self) -> None:
        for reader in self.readers:
            getattr(reader, "close", lambda: None)()


def _reader(source: Any, ioctx: IOContext, on_bad_line: str) -> InputReader:
    if isinstance(source, InputReader) or hasattr(source, "next"):
        return source
    if source == "sampler":
        return ioctx.default_sampler_input()
    return JsonReader(source, ioctx, on_bad_line)


class ShuffledInput(InputReader):
    """Rows of ``reader`` mixed in a buffer of at least ``buffer_size`` rows: each
    :meth:`next` returns as many rows as the reader gave, drawn at random from the buffer
    (rows from many batches, episodes and files together)."""

    def __init__(self, reader: InputReader, buffer_size: int, seed: Any = None):
        self.reader = reader
        self.buffer_size = buffer_size
        self._buffer: SampleBatch | None = None
        self._rng = np.random.default_rng(seed)

    def next(self) -> SampleBatch:
        batch = self.reader.next()
        if self.buffer_size <= 1:
            return batch
        buffer = batch if self._buffer is None else self._buffer.concat(batch)
        while buffer.count < self.buffer_size + batch.count:
            buffer = buffer.concat(self.reader.next())
        order = self._rng.permutation(buffer.count)
        out, keep = order[: batch.count], order[batch.count :]
        self._buffer = buffer.take(keep)
        return buffer.take(out)

    def get_metrics(self) -> list[Any]:
        return getattr(self.reader, "get_metrics", list)()

    def close(self) -> None:
        getattr(self.reader, "close", lambda: None)()
