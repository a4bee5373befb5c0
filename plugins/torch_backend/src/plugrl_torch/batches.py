"""Training batches as tensors: a whole batch made tensors column by column as a loss reads
them, and minibatches taken from those tensors on the device, so a batch crosses to the
device once however many epochs and minibatches learn on it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from plugrl.sample_batch import Rows, SampleBatch


class TensorDict(dict):
    """A batch whose numeric numpy columns become tensors on first access."""

    def __init__(self, batch: SampleBatch | dict, device: torch.device):
        super().__init__()
        self._source = batch
        self._device = device

    def __getitem__(self, key: str) -> Any:
        if not dict.__contains__(self, key):
            dict.__setitem__(self, key, self._column(key))
        return dict.__getitem__(self, key)

    def _column(self, key: str) -> Any:
        return to_tensor(self._source[key], self._device)

    def __contains__(self, key: object) -> bool:
        return key in self._source

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self._source else default

    def keys(self):  # type: ignore[override]
        return self._source.keys()

    @property
    def count(self) -> int:
        return len(self._source[next(iter(self._source))])


class Minibatch(TensorDict):
    """Some rows of a whole batch's :class:`TensorDict`: each column is taken from the whole
    column's tensor (by ``index``, on its device) when a loss first reads it; object columns
    (infos) by ``rows``."""

    def __init__(self, whole: TensorDict, index: torch.Tensor | slice, rows: Rows):
        super().__init__(whole, whole._device)
        self._index, self._rows = index, rows
        self._count = len(rows) if not isinstance(rows, slice) else len(range(whole.count)[rows])

    def _column(self, key: str) -> Any:
        column = self._source[key]
        if not isinstance(column, torch.Tensor):
            return column[self._rows]
        if isinstance(self._index, slice):
            return column[self._index]
        return column.index_select(0, self._index)  # about half the cost of column[index]

    @property
    def count(self) -> int:
        return self._count


def minibatches(
    samples: SampleBatch, parts: Sequence[Rows], device: torch.device
) -> Iterator[Minibatch]:
    """Each of ``parts`` (some rows of ``samples``) as a :class:`Minibatch` of one
    :class:`TensorDict` of ``samples``; the row indices of all of them go to the device in one
    copy."""
    whole = TensorDict(samples, device)
    arrays = [rows for rows in parts if not isinstance(rows, slice)]
    index = torch.from_numpy(np.concatenate(arrays)).to(device) if arrays else None
    offset = 0
    for rows in parts:
        if isinstance(rows, slice):
            yield Minibatch(whole, rows, rows)
        else:
            yield Minibatch(whole, index[offset : offset + len(rows)], rows)
            offset += len(rows)


def to_tensor(value: Any, device: torch.device) -> Any:
    """numpy -> tensor (float64 as float32); object columns stay as they are. A read-only
    array (a batch from Ray's object store) is copied, so nothing can write into it."""
    if isinstance(value, torch.Tensor):
        return value.to(device)
    array = np.asarray(value)
    if array.dtype == object:
        return array
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    elif not array.flags.writeable:
        array = array.copy()
    return torch.from_numpy(np.ascontiguousarray(array)).to(device)
