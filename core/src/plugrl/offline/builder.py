"""SampleBatchBuilder: a batch built up one row at a time, for writing data by hand."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from plugrl.sample_batch import SampleBatch


class SampleBatchBuilder:
    """Collects rows with :meth:`add_values` and turns them into a :class:`SampleBatch`."""

    def __init__(self) -> None:
        self._columns: dict[str, list[Any]] = defaultdict(list)
        self.count = 0

    def add_values(self, **values: Any) -> None:
        """Add one row; every row must name the same columns."""
        if self.count and set(values) != set(self._columns):
            missing = sorted(set(self._columns) ^ set(values))
            raise ValueError(f"add_values: every row needs the same columns; differing: {missing}")
        for name, value in values.items():
            self._columns[name].append(value)
        self.count += 1

    def build_and_reset(self) -> SampleBatch:
        """The rows so far as one batch; the builder starts empty again."""
        batch = SampleBatch({name: values for name, values in self._columns.items()})
        self._columns = defaultdict(list)
        self.count = 0
        return batch
