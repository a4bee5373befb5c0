"""A rollout worker's offline data: the reader and writer its config asks for, and reading
a batch (postprocessed and estimated as configured)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from plugrl.errors import ConfigError, OfflineDataError
from plugrl.offline.estimators import OffPolicyEstimate, make_estimators
from plugrl.offline.io_context import IOContext, SampledBatch
from plugrl.offline.json_reader import InputReader, JsonReader
from plugrl.offline.json_writer import JsonWriter, OutputWriter
from plugrl.offline.mixed_input import MixedInput, ShuffledInput
from plugrl.sample_batch import MultiAgentBatch, SampleBatch


def make_input_reader(config: dict[str, Any], ioctx: IOContext) -> InputReader | None:
    """The reader of ``config["input"]``; None for ``"sampler"`` (the worker's envs)."""
    source = config["input"]
    on_bad_line = (config.get("input_config") or {}).get("on_bad_line", "skip")
    if source == "sampler":
        return None
    _refuse_recurrent_policies(source, ioctx)
    if callable(source):
        reader = source(ioctx)
    elif isinstance(source, Mapping):
        reader = MixedInput(source, ioctx, on_bad_line)
    elif isinstance(source, str) or (
        isinstance(source, Sequence) and all(isinstance(s, str) for s in source)
    ):
        reader = JsonReader(source, ioctx, on_bad_line)
    else:
        raise ConfigError(
            f"input must be 'sampler', a folder, glob or file (or a list of them), a dict of "
            f"sources and probabilities, or fn(ioctx) -> reader; got {source!r}."
        )
    if not callable(getattr(reader, "next", None)):
        raise ConfigError(f"input: {reader!r} has no next() method returning a SampleBatch.")
    return reader


def _refuse_recurrent_policies(source: Any, ioctx: IOContext) -> None:
    """Offline files and the policy server bring no recurrent state: a recurrent policy
    learns from its own sampler only."""
    policies = getattr(ioctx.worker, "policy_map", None) or {}
    recurrent = [pid for pid, policy in policies.items() if policy.is_recurrent()]
    if recurrent:
        raise ConfigError(
            f"input {source!r} cannot feed the recurrent policy {recurrent[0]!r} (model "
            "use_lstm, or a custom_model with a state): offline inputs and the policy server "
            "carry no recurrent state. Use input 'sampler', or a feed-forward model."
        )


def make_output_writer(config: dict[str, Any], ioctx: IOContext) -> OutputWriter | None:
    """The writer of ``config["output"]``: None, ``"logdir"``, a folder or URL, or
    ``fn(ioctx) -> writer``."""
    target = config["output"]
    if target is None:
        return None
    if callable(target):
        return target(ioctx)
    if target == "logdir":
        if not ioctx.log_dir:
            raise ConfigError(
                'output: "logdir" writes into the run folder, but this worker has none: give '
                "a folder instead."
            )
        target = ioctx.log_dir
    return JsonWriter(
        target,
        ioctx,
        max_file_size=config["output_max_file_size"],
        compress_columns=config["output_compress_columns"],
    )


class OfflineInput:
    """What a worker's :meth:`sample` reads when its input is not the sampler: each batch the
    reader gives has its episodes estimated by the ``input_evaluation`` estimators and
    postprocessed by the policy (``postprocess_inputs``) as it is read, and is then mixed in
    a ``shuffle_buffer_size`` buffer. Batches a mixed input drew from the sampler are already
    postprocessed, and on-policy: they are neither postprocessed again nor estimated."""

    def __init__(self, reader: InputReader, policy: Any, config: dict[str, Any]):
        self.reader = reader
        self.policy = policy
        self.postprocess = config["postprocess_inputs"]
        names = list(config["input_evaluation"] or [])
        self.estimators = make_estimators(names, policy, config["gamma"])
        self.simulate = "simulation" in names
        self._estimates: list[OffPolicyEstimate] = []
        size = config["shuffle_buffer_size"]
        prepared = _Prepared(self)
        seed = config.get("seed")
        self._source: Any = (
            ShuffledInput(
                prepared, size, None if seed is None else [seed, policy.context.worker_index]
            )
            if size > 1
            else prepared
        )

    def next(self) -> tuple[SampleBatch, list[OffPolicyEstimate]]:
        """The next batch, and the estimates of the episodes read since the last call."""
        batch = self._source.next()
        estimates, self._estimates = self._estimates, []
        return batch, estimates

    def prepare(self, batch: SampleBatch) -> SampleBatch:
        """Estimate and postprocess one batch as read (one likelihood pass for all
        estimators)."""
        if isinstance(batch, MultiAgentBatch):
            raise OfflineDataError(
                "input: the data holds multi-agent batches (written by a multi-agent worker); "
                "a single-agent trainer cannot learn from them. Read them with "
                "plugrl.JsonReader and pick a policy's batch (batch.policy_batches[id])."
            )
        if isinstance(batch, SampledBatch) or not (self.postprocess or self.estimators):
            return batch
        batch = with_terminateds(batch)
        episodes = _episodes(batch)
        if self.estimators:
            probs = self.estimators[0].action_prob(batch)
            start = 0
            for episode in episodes:
                own = probs[start : start + episode.count]
                start += episode.count
                self._estimates.extend(e.estimate(episode, own) for e in self.estimators)
        if self.postprocess:
            batch = SampleBatch.concat_samples(
                [self.policy.postprocess_trajectory(episode) for episode in episodes]
            )
        return batch

    def episode_metrics(self) -> list[Any]:
        """The episodes the reader saw complete since the last call (a policy server's)."""
        return list(getattr(self.reader, "get_metrics", list)())


class _Prepared(InputReader):
    """The reader's batches, prepared by an :class:`OfflineInput`."""

    def __init__(self, offline: OfflineInput):
        self.offline = offline

    def next(self) -> SampleBatch:
        return self.offline.prepare(self.offline.reader.next())


def with_terminateds(batch: SampleBatch) -> SampleBatch:
    """Data written before gymnasium has only ``dones``: read as terminations."""
    if SampleBatch.TERMINATEDS not in batch and SampleBatch.DONES in batch:
        batch[SampleBatch.TERMINATEDS] = batch[SampleBatch.DONES].astype(bool)
        batch[SampleBatch.TRUNCATEDS] = np.zeros(batch.count, dtype=bool)
    return batch


def _episodes(batch: SampleBatch) -> list[SampleBatch]:
    """``batch`` cut where ``eps_id`` changes (all of it when it has no ``eps_id``)."""
    if SampleBatch.EPS_ID not in batch:
        return [batch]
    return batch.split_by_episode()
