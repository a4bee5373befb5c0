"""Numeric arrays in JSON: a header of dtype and shape beside the raw bytes (base64, and LZ4
for offline files), checked when read back so that nothing read builds Python objects or
allocates more than the bytes it holds. Offline files and the policy server share it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

NUMERIC_KINDS = "biufc"  # bool, signed and unsigned integers, floats, complex


def to_raw(array: Any) -> tuple[dict[str, Any], bytes]:
    """``({"dtype", "shape"}, bytes)`` of a numeric array, C-ordered and little-endian."""
    array = np.asarray(array)
    if not array.flags.c_contiguous:  # (ascontiguousarray would make a 0-d array 1-d)
        array = array.copy(order="C")
    if array.dtype.kind not in NUMERIC_KINDS:
        raise ValueError(f"arrays of dtype {array.dtype} are not stored (numbers only)")
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    return {"dtype": array.dtype.str, "shape": list(array.shape)}, array.tobytes()


def read_header(header: dict[str, Any], what: str) -> tuple[np.dtype, list[int], int]:
    """The dtype, shape and byte size a header read back claims; a ``ValueError`` naming
    ``what`` unless the dtype is numeric and the shape a list of sizes."""
    try:
        dtype = np.dtype(header["dtype"]) if isinstance(header["dtype"], str) else None
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in NUMERIC_KINDS:
        raise ValueError(
            f"{what} has dtype {header['dtype']!r}, not a numeric one (arrays that are not "
            "numeric or bool are never read: they would need pickle)"
        )
    shape = header["shape"]
    if not isinstance(shape, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    ):
        raise ValueError(f"{what} has shape {shape!r}, not a list of integers >= 0")
    return dtype, shape, math.prod(shape) * dtype.itemsize


def from_raw(raw: bytes, dtype: np.dtype, shape: list[int], what: str) -> np.ndarray:
    """A writable array of ``raw``, which must hold exactly ``shape`` x ``dtype``."""
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{what} holds {len(raw)} bytes; dtype and shape need {expected}")
    return np.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)
