"""One SampleBatch <-> one line of JSON.

A line is a JSON object ``{"type": "SampleBatch", column: value, ...}``, or for a multi-agent
worker ``{"type": "MultiAgentBatch", "count": env_steps, "policy_batches": {policy_id:
{column: value, ...}}}``. A column is a plain
JSON list (readable episode traces), or, for the columns asked to be compressed, an object
``{"dtype": "<f4", "shape": [200, 4], "lz4": "<base64>"}``: the column's raw bytes,
LZ4-compressed. Reading runs no code: only numeric and bool dtypes are accepted (never
pickled objects), the bytes must match the shape, and ``infos`` is a JSON list of dicts.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Collection
from typing import Any

import numpy as np

from plugrl.arrays import from_raw, read_header, to_raw
from plugrl.jsonable import to_jsonable
from plugrl.sample_batch import MultiAgentBatch, SampleBatch

BATCH_TYPE = "SampleBatch"
MULTI_AGENT_TYPE = "MultiAgentBatch"
# LZ4 cannot expand data more than this; a frame claiming more is not one we wrote.
_MAX_RATIO = 256


class CorruptLine(ValueError):
    """A line that is not a batch this module wrote (or a plain one written by hand)."""


def encode_batch(
    batch: SampleBatch | MultiAgentBatch, compress_columns: Collection[str] = ()
) -> str:
    """``batch`` as one line of JSON (no newline), ``compress_columns`` compressed."""
    if isinstance(batch, MultiAgentBatch):
        out: dict[str, Any] = {
            "type": MULTI_AGENT_TYPE,
            "count": batch.count,
            "policy_batches": {
                pid: _encode_columns(b, compress_columns) for pid, b in batch.policy_batches.items()
            },
        }
    else:
        out = {"type": BATCH_TYPE, **_encode_columns(batch, compress_columns)}
    return json.dumps(out, allow_nan=False, separators=(",", ":"))


def _encode_columns(batch: SampleBatch, compress_columns: Collection[str]) -> dict[str, Any]:
    return {
        name: pack(column)
        if name in compress_columns and column.dtype != object
        else to_jsonable(column)
        for name, column in batch.items()
    }


def decode_line(line: str) -> SampleBatch | MultiAgentBatch:
    """The batch of one line; :class:`CorruptLine` saying why when it is not one."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise CorruptLine(f"not JSON ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict):
        raise CorruptLine(f"a JSON {type(data).__name__}, not an object of columns")
    kind = data.pop("type", BATCH_TYPE)
    if kind == MULTI_AGENT_TYPE:
        return _decode_multi_agent(data)
    if kind != BATCH_TYPE:
        raise CorruptLine(f"type {kind!r}; only {BATCH_TYPE!r} and {MULTI_AGENT_TYPE!r} lines")
    return _decode_columns(data)


def _decode_multi_agent(data: dict[str, Any]) -> MultiAgentBatch:
    batches, count = data.get("policy_batches"), data.get("count")
    if not isinstance(batches, dict) or not isinstance(count, int) or isinstance(count, bool):
        raise CorruptLine("a MultiAgentBatch line has an integer count and policy_batches")
    for pid, columns in batches.items():
        if not isinstance(columns, dict):
            raise CorruptLine(f"policy {pid!r}: a {type(columns).__name__}, not columns")
    return MultiAgentBatch({pid: _decode_columns(c) for pid, c in batches.items()}, count)


def _decode_columns(data: dict[str, Any]) -> SampleBatch:
    columns = {}
    for name, value in data.items():
        try:
            columns[name] = _column(name, value)
        except (ValueError, TypeError, OSError) as exc:
            raise CorruptLine(f"column {name!r}: {exc}") from None
    try:
        return SampleBatch(columns)
    except ValueError as exc:
        raise CorruptLine(str(exc)) from None


def pack(array: np.ndarray) -> dict[str, Any]:
    """A numeric array as ``{"dtype", "shape", "lz4"}`` (its bytes, compressed, in base64)."""
    import lz4.frame

    header, raw = to_raw(array)
    return {**header, "lz4": base64.b64encode(lz4.frame.compress(raw)).decode("ascii")}


def unpack(packed: dict[str, Any]) -> np.ndarray:
    """The array :func:`pack` wrote (``ValueError`` for anything else)."""
    import lz4.frame

    if set(packed) != {"dtype", "shape", "lz4"}:
        raise ValueError(f"a packed column has dtype, shape and lz4, not {sorted(packed)}")
    dtype, shape, size = read_header(packed, "the column")
    try:
        data = base64.b64decode(str(packed["lz4"]), validate=True)
        # the size the frame claims is checked before anything that size is allocated
        claimed = lz4.frame.get_frame_info(data)["content_size"]
        if claimed != size or size > _MAX_RATIO * len(data):
            raise ValueError(f"it holds {claimed} bytes, not {shape} x {dtype}")
        raw = lz4.frame.decompress(data)
    except (ValueError, RuntimeError) as exc:
        raise ValueError(f"not an LZ4-compressed array of {shape} x {dtype} ({exc})") from None
    return from_raw(raw, dtype, shape, "the column")


def _column(name: str, value: Any) -> np.ndarray:
    if isinstance(value, dict):
        return unpack(value)
    if not isinstance(value, list):
        raise ValueError(f"a {type(value).__name__}, expected a list or a packed column")
    if name == SampleBatch.INFOS:
        column = np.empty(len(value), dtype=object)
        column[:] = [v if isinstance(v, dict) else {} for v in value]
        return column
    array = np.asarray(value)
    if array.dtype == object:
        raise ValueError("rows of different shapes or types")
    return array
