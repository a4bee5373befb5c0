"""Turning configs and results into JSON-able values."""

from __future__ import annotations

import math
import sys
from typing import Any

from plugrl.errors import ConfigError


def to_jsonable(value: Any) -> Any:
    """Dicts, lists and scalars as they are; numpy scalars and arrays as Python values;
    gymnasium spaces in their JSON form (:mod:`plugrl.env.spaces`); classes and functions by
    their dotted name; anything else by ``repr``."""
    # A value can only be a numpy or gymnasium object once that library is imported; this
    # module imports neither, so the CLI can start without them.
    np = sys.modules.get("numpy")
    gym = sys.modules.get("gymnasium")
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if np is not None and isinstance(value, np.generic):
        return value.item()
    if np is not None and isinstance(value, np.ndarray):
        return value.tolist()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if gym is not None and isinstance(value, gym.Space):
        from plugrl.env.spaces import space_to_json

        try:
            return space_to_json(value)
        except ConfigError:  # a custom space type
            return repr(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, type) or callable(value):
        return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', value)}"
    return repr(value)


def flatten(result: dict, prefix: str = "", sep: str = "/") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a/b": 1}``."""
    out: dict[str, Any] = {}
    for key, value in result.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}{sep}", sep))
        else:
            out[name] = value
    return out
