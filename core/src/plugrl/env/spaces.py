"""Gymnasium spaces as JSON and back.

A config may give ``observation_space`` and ``action_space`` instead of an env (a trainer fed
by a policy server), as gymnasium spaces in Python or in this JSON form in a YAML or JSON
config; ``params.json`` and checkpoints store them in it, and a policy server describes its
spaces in it to its clients:

```json
{"type": "Box", "low": [-4.8, "-inf"], "high": [4.8, "inf"], "shape": [2], "dtype": "float32"}
{"type": "Discrete", "n": 2, "start": 0}
{"type": "MultiDiscrete", "nvec": [3, 2]}
{"type": "MultiBinary", "n": 4}
{"type": "Tuple", "spaces": [{"type": "Discrete", "n": 2}, ...]}
{"type": "Dict", "spaces": {"position": {"type": "Box", ...}, ...}}
```

A Box's ``low`` and ``high`` are a number (every element) or nested lists of the space's
shape; infinite bounds are the strings ``"inf"`` and ``"-inf"``. Reading a space runs no code
and builds only these six types, of numeric dtypes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.checkpoint.fit import space_signature
from plugrl.errors import ConfigError

SPACE_KEYS = ("observation_space", "action_space")
"""The config keys that give a space."""

_NUMERIC_KINDS = "biuf"
_MAX_ELEMENTS = 1 << 24  # a Box or MultiBinary larger than this is refused when read
_MAX_DEPTH = 16  # Tuple / Dict nesting


def space_to_json(space: gym.Space) -> dict[str, Any]:
    """``space`` as a JSON-able dict (see the module docstring); a :class:`ConfigError` for a
    space type other than Box, Discrete, MultiDiscrete, MultiBinary, Tuple and Dict."""
    if isinstance(space, gym.spaces.Box):
        return {
            "type": "Box",
            "low": _bounds_to_json(space.low),
            "high": _bounds_to_json(space.high),
            "shape": list(space.shape),
            "dtype": np.dtype(space.dtype).name,
        }
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, gym.spaces.MultiDiscrete):
        out: dict[str, Any] = {"type": "MultiDiscrete", "nvec": space.nvec.tolist()}
        if np.any(space.start):
            out["start"] = space.start.tolist()
        return out
    if isinstance(space, gym.spaces.MultiBinary):
        n = space.n
        return {"type": "MultiBinary", "n": int(n) if np.ndim(n) == 0 else list(n)}
    if isinstance(space, gym.spaces.Tuple):
        return {"type": "Tuple", "spaces": [space_to_json(s) for s in space.spaces]}
    if isinstance(space, gym.spaces.Dict):
        return {"type": "Dict", "spaces": {k: space_to_json(s) for k, s in space.spaces.items()}}
    raise ConfigError(
        f"{space} cannot be written as JSON: plugrl stores Box, Discrete, MultiDiscrete, "
        "MultiBinary, Tuple and Dict spaces."
    )


def space_from_json(data: Any, where: str = "space") -> gym.Space:
    """The space ``data`` (the JSON form) describes; a :class:`ConfigError` naming ``where``
    and what is wrong otherwise."""
    try:
        return _from_json(data, 0)
    except _Bad as bad:
        raise ConfigError(
            f"{where} is not a space: {bad}. Give a gymnasium space in Python, or its JSON form, "
            'e.g. {"type": "Discrete", "n": 2} or {"type": "Box", "low": -1, "high": 1, '
            '"shape": [3]}.'
        ) from None


def as_space(value: Any, where: str = "space") -> gym.Space | None:
    """``value`` as a space: None, a gymnasium space (as it is) or its JSON form."""
    if value is None or isinstance(value, gym.Space):
        return value
    return space_from_json(value, where)


def config_spaces(config: Mapping[str, Any]) -> tuple[gym.Space | None, gym.Space | None]:
    """The ``observation_space`` and ``action_space`` a config gives (None where it gives
    none), checked: both or neither."""
    obs_space = as_space(config.get("observation_space"), "observation_space")
    action_space = as_space(config.get("action_space"), "action_space")
    if (obs_space is None) != (action_space is None):
        given, missing = SPACE_KEYS if action_space is None else SPACE_KEYS[::-1]
        raise ConfigError(
            f"The config gives {given} but not {missing}: give both (the spaces of the "
            "episodes the policy will see), or neither to take them from the env."
        )
    return obs_space, action_space


def check_env_spaces(env: gym.Env, config: Mapping[str, Any]) -> None:
    """A :class:`ConfigError` when the config gives spaces other than ``env``'s (in type and
    shape)."""
    for key, given in zip(SPACE_KEYS, config_spaces(config), strict=True):
        if given is None:
            continue
        actual = getattr(env, key)
        if space_signature(given) != space_signature(actual):
            raise ConfigError(
                f"The config's {key} is {space_signature(given)}, but the env's is "
                f"{space_signature(actual)}: drop {key} from the config (the env's is used), "
                "or make them the same."
            )


class _Bad(Exception):
    """What is wrong with a JSON space (the message is the rest of a sentence)."""


def _from_json(data: Any, depth: int) -> gym.Space:
    if depth > _MAX_DEPTH:
        raise _Bad(f"it nests more than {_MAX_DEPTH} levels of Tuple and Dict")
    if not isinstance(data, Mapping):
        raise _Bad(f"{_short(data)} is not an object with a 'type'")
    kind = data.get("type")
    fields = _FIELDS.get(kind)
    if fields is None:
        raise _Bad(f"type {_short(kind)} is not one of {', '.join(_FIELDS)}")
    unknown = sorted(set(data) - fields - {"type"})
    if unknown:
        raise _Bad(f"a {kind} has no field {unknown[0]!r} (fields: {', '.join(sorted(fields))})")
    if kind == "Discrete":
        n, start = _int(data, "n", 1), _int(data, "start", None, default=0)
        return gym.spaces.Discrete(n, start=start)
    if kind == "MultiDiscrete":
        nvec = _int_array(data, "nvec", 1)
        start = _int_array(data, "start", None, default=np.zeros_like(nvec))
        if start.shape != nvec.shape:
            raise _Bad(f"its start has shape {start.shape}, its nvec {nvec.shape}")
        return gym.spaces.MultiDiscrete(nvec, start=start)
    if kind == "MultiBinary":
        n = data.get("n")
        if isinstance(n, list):
            shape = tuple(_int({"n": d}, "n", 1) for d in n)
            _check_size(shape)
            return gym.spaces.MultiBinary(list(shape))
        return gym.spaces.MultiBinary(_int(data, "n", 1))
    if kind == "Box":
        return _box(data)
    if kind == "Tuple":
        items = data.get("spaces")
        if not isinstance(items, list) or not items:
            raise _Bad("a Tuple's spaces must be a non-empty list of spaces")
        return gym.spaces.Tuple([_from_json(item, depth + 1) for item in items])
    items = data.get("spaces")
    if not isinstance(items, Mapping) or not items:
        raise _Bad("a Dict's spaces must be a non-empty object of named spaces")
    return gym.spaces.Dict({str(k): _from_json(v, depth + 1) for k, v in items.items()})


_FIELDS: dict[Any, frozenset[str]] = {
    "Box": frozenset({"low", "high", "shape", "dtype"}),
    "Discrete": frozenset({"n", "start"}),
    "MultiDiscrete": frozenset({"nvec", "start"}),
    "MultiBinary": frozenset({"n"}),
    "Tuple": frozenset({"spaces"}),
    "Dict": frozenset({"spaces"}),
}


def _box(data: Mapping[str, Any]) -> gym.Space:
    dtype_name = data.get("dtype", "float32")
    try:
        dtype = np.dtype(dtype_name) if isinstance(dtype_name, str) else None
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in _NUMERIC_KINDS:
        raise _Bad(f"a Box's dtype must name a numeric type (e.g. 'float32'), got {dtype_name!r}")
    shape_value = data.get("shape")
    if shape_value is None:
        shape = None
    elif isinstance(shape_value, list) and all(_is_int(d) and d >= 0 for d in shape_value):
        shape = tuple(int(d) for d in shape_value)
        _check_size(shape)
    else:
        raise _Bad(f"a Box's shape must be a list of integers >= 0, got {_short(shape_value)}")
    low, high = (_bounds(data.get(key), key, shape) for key in ("low", "high"))
    if shape is None:
        if np.ndim(low) == 0 and np.ndim(high) == 0:
            raise _Bad("a Box with scalar low and high needs a shape")
        shape = np.shape(low) if np.ndim(low) else np.shape(high)
    for name, bound in (("low", low), ("high", high)):
        if np.ndim(bound) and np.shape(bound) != shape:
            raise _Bad(f"a Box's {name} has shape {np.shape(bound)}, its shape is {shape}")
    if np.any(np.broadcast_to(low, shape) > np.broadcast_to(high, shape)):
        raise _Bad("a Box's low is above its high")
    if dtype.kind == "f":  # as stored: no precision is lost
        low, high = (np.broadcast_to(np.asarray(b, dtype), shape).copy() for b in (low, high))
    return gym.spaces.Box(low=low, high=high, shape=shape, dtype=dtype)


def _bounds(value: Any, name: str, shape: tuple[int, ...] | None) -> Any:
    """A Box bound: a number or nested lists of numbers, with "inf" / "-inf"."""
    if value is None:
        raise _Bad(f"a Box needs {name}")
    try:
        array = np.asarray(_with_infinities(value, 0), dtype=np.float64)
    except (ValueError, TypeError, _Bad):
        raise _Bad(
            f"a Box's {name} must be a number or nested lists of numbers ('inf' and '-inf' "
            f"for infinite bounds), got {_short(value)}"
        ) from None
    if np.isnan(array).any():
        raise _Bad(f"a Box's {name} holds NaN")
    _check_size(array.shape)
    return array.item() if array.ndim == 0 else array


def _with_infinities(value: Any, depth: int) -> Any:
    if depth > 32:
        raise _Bad("too deep")
    if isinstance(value, list):
        return [_with_infinities(v, depth + 1) for v in value]
    if value in ("inf", "-inf"):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(f"{value!r} is not a number")
    return value


def _bounds_to_json(array: np.ndarray) -> Any:
    """A Box bound as JSON: one number when every element is the same, else nested lists."""
    values = np.asarray(array, dtype=np.float64)
    if values.size and np.all(values == values.flat[0]):
        return _number(float(values.flat[0]))
    return _nested(values.tolist())


def _nested(value: Any) -> Any:
    if isinstance(value, list):
        return [_nested(v) for v in value]
    return _number(value)


def _number(value: float) -> Any:
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def _int(data: Mapping[str, Any], key: str, minimum: int | None, default: Any = None) -> int:
    value = data.get(key, default)
    if not _is_int(value) or (minimum is not None and value < minimum):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise _Bad(f"its {key} must be an integer{bound}, got {_short(value)}")
    return int(value)


def _int_array(data: Mapping[str, Any], key: str, minimum: int | None, default: Any = None) -> Any:
    value = data.get(key, default)
    if isinstance(value, np.ndarray):
        return value
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        array = np.asarray(None)
    ok = array.ndim >= 1 and array.dtype.kind in "iu" and array.size > 0
    if not ok or (minimum is not None and np.any(array < minimum)):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise _Bad(f"its {key} must be a non-empty list of integers{bound}, got {_short(value)}")
    _check_size(array.shape)
    return array.astype(np.int64)


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _check_size(shape: tuple[int, ...]) -> None:
    if int(np.prod(shape, dtype=np.float64)) > _MAX_ELEMENTS:
        raise _Bad(f"shape {tuple(shape)} has more than {_MAX_ELEMENTS} elements")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
