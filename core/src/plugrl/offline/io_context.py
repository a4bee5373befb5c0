"""IOContext: what an input reader or output writer knows about the worker it serves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plugrl.sample_batch import SampleBatch


@dataclass
class IOContext:
    """Handed to readers and writers (and to ``input`` / ``output`` callables).

    Attributes:
        log_dir: the run folder (``output: "logdir"`` writes there); None outside a run.
        config: the worker's config.
        worker_index: 0 for the local worker, 1..N for remote ones.
        worker: the :class:`~plugrl.sampling.rollout_worker.RolloutWorker` (None when a reader
            or writer is used on its own).
    """

    log_dir: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    worker_index: int = 0
    worker: Any = None

    def default_sampler_input(self) -> Any:
        """The worker's env sampler as an input reader (``"sampler"`` in a mixed input)."""
        if self.worker is None:
            raise ValueError("an input of 'sampler' needs a rollout worker with envs")
        return SamplerInput(self.worker)


class SampledBatch(SampleBatch):
    """A batch a :class:`SamplerInput` just sampled from the envs: already postprocessed."""


class SamplerInput:
    """Batches sampled from the worker's envs, as an input reader."""

    def __init__(self, worker: Any):
        self.worker = worker

    def next(self) -> SampledBatch:
        return SampledBatch(self.worker.sample_from_envs())
