"""Offline data: experiences written to and read from files of JSON batches, inputs that mix
files and the sampler, off-policy estimation, and building batches by hand.

A worker's ``output`` writes what it samples (:class:`JsonWriter`); its ``input`` reads
batches instead of stepping envs (:class:`JsonReader`, :class:`MixedInput`,
:class:`ShuffledInput`). Paths are local folders or any fsspec URL. Reading runs no code.
"""

from plugrl.offline.builder import SampleBatchBuilder
from plugrl.offline.estimators import (
    ImportanceSamplingEstimator,
    OffPolicyEstimate,
    OffPolicyEstimator,
    WeightedImportanceSamplingEstimator,
)
from plugrl.offline.io_context import IOContext
from plugrl.offline.json_reader import InputReader, JsonReader
from plugrl.offline.json_writer import JsonWriter, OutputWriter
from plugrl.offline.mixed_input import MixedInput, ShuffledInput

__all__ = [
    "IOContext",
    "ImportanceSamplingEstimator",
    "InputReader",
    "JsonReader",
    "JsonWriter",
    "MixedInput",
    "OffPolicyEstimate",
    "OffPolicyEstimator",
    "OutputWriter",
    "SampleBatchBuilder",
    "ShuffledInput",
    "WeightedImportanceSamplingEstimator",
]
