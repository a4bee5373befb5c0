"""The policy server's wire protocol: JSON bodies, their checks, and how values and arrays
travel (documented for people in ``docs/serving.md``).

Nothing here imports an HTTP library: the server (aiohttp) and the client (``http.client``)
both build on it. Reading a request runs no code: JSON is parsed into plain values and each value
is checked against a field list or a space before anything uses it.
"""

from __future__ import annotations

import base64
import json
import math
import numbers
import re
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.arrays import NUMERIC_KINDS, from_raw, read_header, to_raw
from plugrl.env.checker import observation_problem

PROTOCOL_VERSION = 1
"""Bumped when a request or answer changes incompatibly; paths start with ``/v<version>``."""

PREFIX = f"/v{PROTOCOL_VERSION}"

TOKEN_HEADER = "Authorization"
"""With a shared token, every request carries ``Authorization: Bearer <token>``."""

DEFAULT_PORT = 9900
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
EPISODE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")

# Array dtypes that may travel as raw bytes (never objects).


class RequestError(Exception):
    """A request the server refuses: the HTTP status, a short code and a one-line message.

    The answer's body is ``{"error": code, "message": message}``.
    """

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}


# --- bodies ---------------------------------------------------------------------------------

# Each command's fields: name -> (JSON kinds accepted, required). Kinds: "string", "bool",
# "number", "object", "any" (checked against a space later), "null".
FIELDS: dict[str, dict[str, tuple[tuple[str, ...], bool]]] = {
    "start_episode": {
        "episode_id": (("string", "null"), False),
        "training_enabled": (("bool",), False),
    },
    "get_action": {"episode_id": (("string",), True), "observation": (("any",), True)},
    "log_action": {
        "episode_id": (("string",), True),
        "observation": (("any",), True),
        "action": (("any",), True),
    },
    "log_policy_action": {
        "episode_id": (("string",), True),
        "observation": (("any",), True),
        "action": (("any",), True),
        "extra": (("object",), True),
    },
    "log_returns": {
        "episode_id": (("string",), True),
        "reward": (("number",), True),
        "info": (("object", "null"), False),
    },
    "end_episode": {
        "episode_id": (("string",), True),
        "observation": (("any",), True),
        "truncated": (("bool",), False),
    },
}
COMMANDS = tuple(FIELDS)
EVENT_COMMANDS = ("start_episode", "log_action", "log_policy_action", "log_returns", "end_episode")
"""What ``/v1/events`` takes: everything but ``get_action`` (an event needs no answer)."""


def parse_json(raw: bytes) -> Any:
    """A request body as JSON, or a 400 ``bad_json``: invalid UTF-8 or JSON, NaN/Infinity
    (not JSON), or nested deeper than Python parses."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise RequestError(400, "bad_json", f"The body is not UTF-8 text ({exc}).") from None
    except (ValueError, RecursionError) as exc:
        raise RequestError(400, "bad_json", f"The body is not JSON: {exc}.") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value (send only finite numbers)")


def check_body(command: str, body: Any) -> dict[str, Any]:
    """``body`` as the fields of ``command``: a JSON object with the known fields of the right
    kinds (a 400 ``bad_request`` naming the first problem otherwise)."""
    fields = FIELDS[command]
    if not isinstance(body, dict):
        raise RequestError(
            400, "bad_request", f"{command}: the body must be a JSON object, got {_kind(body)}."
        )
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise RequestError(
            400,
            "bad_request",
            f"{command}: unknown field {unknown[0]!r} (fields: {', '.join(fields)}).",
        )
    for name, (kinds, required) in fields.items():
        if name not in body:
            if required:
                raise RequestError(400, "bad_request", f"{command}: the field {name!r} is missing.")
            continue
        if "any" not in kinds and _kind_name(body[name]) not in kinds:
            raise RequestError(
                400,
                "bad_request",
                f"{command}: {name!r} must be {' or '.join(kinds)}, got {_kind(body[name])}.",
            )
    episode_id = body.get("episode_id")
    if episode_id is not None and not EPISODE_ID.fullmatch(episode_id):
        raise RequestError(
            400,
            "bad_request",
            f"{command}: episode_id {_short(episode_id)} must be 1 to 128 letters, digits or "
            "'_.:-'.",
        )
    return body


def _kind_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "list"


def _kind(value: Any) -> str:
    name = _kind_name(value)
    if name in ("null", "object", "list"):
        return {"null": "null", "object": "an object", "list": "a list"}[name]
    return f"{'a ' if name != 'number' else 'the number '}{name} {_short(value)}"


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- values of spaces -----------------------------------------------------------------------


def observation_from_json(space: gym.Space, value: Any) -> Any:
    """A JSON observation as the value of ``space`` the env would have returned (numpy
    arrays for Box/MultiDiscrete/MultiBinary, ints for Discrete, tuples and dicts for
    Tuple/Dict), or a 422 ``invalid_value`` saying why it does not fit."""
    converted = _from_json(space, value)
    if isinstance(space, gym.spaces.Box) and _fits_box(space, converted):
        problem = None  # the common case, checked without describing the space
    else:
        problem = observation_problem(space, converted)
    if problem is None and _has_nonfinite(converted):
        problem = " holds values that are not finite numbers"
    if problem:
        raise RequestError(422, "invalid_value", f"The observation{problem}.")
    return _cast(space, converted)


def action_from_json(space: gym.Space, value: Any, what: str = "action") -> Any:
    """A JSON action for ``space``: a Discrete action an integer in range, a Box action
    finite numbers of its shape (any values: the bounds are the env's business),
    MultiDiscrete / MultiBinary ones integers in range; a 422 otherwise."""
    converted = _from_json(space, value)
    problem = _action_problem(space, converted, "")
    if problem:
        raise RequestError(422, "invalid_value", f"The {what}{problem}.")
    return _cast(space, converted)


def to_json(value: Any) -> Any:
    """A space's value (numpy arrays and scalars, tuples, dicts) as JSON."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


def _from_json(space: gym.Space, value: Any) -> Any:
    """Lists as numpy arrays where ``space`` holds arrays (type and shape checked later)."""
    if isinstance(space, gym.spaces.Tuple) and isinstance(value, list):
        if len(value) != len(space.spaces):
            return value
        return tuple(_from_json(s, v) for s, v in zip(space.spaces, value, strict=True))
    if isinstance(space, gym.spaces.Dict) and isinstance(value, dict):
        return {
            k: _from_json(space.spaces[k], v) if k in space.spaces else v for k, v in value.items()
        }
    if isinstance(space, gym.spaces.Box | gym.spaces.MultiDiscrete | gym.spaces.MultiBinary):
        if isinstance(value, bool) or not isinstance(value, list | int | float):
            return value
        try:
            array = np.asarray(value)
        except (ValueError, TypeError):  # ragged lists
            return value
        return array if array.dtype.kind in NUMERIC_KINDS else value
    if isinstance(space, gym.spaces.Discrete) and isinstance(value, bool):
        return json.dumps(value)  # JSON true is not the integer 1
    return value


def _cast(space: gym.Space, value: Any) -> Any:
    if isinstance(space, gym.spaces.Tuple):
        return tuple(_cast(s, v) for s, v in zip(space.spaces, value, strict=True))
    if isinstance(space, gym.spaces.Dict):
        return {k: _cast(s, value[k]) for k, s in space.spaces.items()}
    if isinstance(space, gym.spaces.Discrete):
        return int(value)
    return np.asarray(value, dtype=space.dtype)


def _fits_box(space: gym.spaces.Box, value: Any) -> bool:
    return (
        isinstance(value, np.ndarray)
        and value.shape == space.shape
        and value.dtype.kind in NUMERIC_KINDS
    )


def _has_nonfinite(value: Any) -> bool:
    if isinstance(value, tuple):
        return any(_has_nonfinite(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nonfinite(v) for v in value.values())
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return not bool(np.isfinite(value).all())
    return False


def _action_problem(space: gym.Space, value: Any, path: str) -> str | None:
    where = f"action_space{path} {space}"
    if isinstance(space, gym.spaces.Box):
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "iuf":
            return f"{path} is {_short(to_json(value))}, but {where} holds numbers"
        if value.shape != space.shape:
            return f"{path} has shape {value.shape}, but {where} has shape {space.shape}"
        if not np.isfinite(value).all():
            return f"{path} holds values that are not finite numbers"
        return None
    if isinstance(space, gym.spaces.Tuple):
        if not isinstance(value, tuple):
            return f"{path} is {_short(to_json(value))}, but {where} is a Tuple"
        for i, (s, v) in enumerate(zip(space.spaces, value, strict=True)):
            problem = _action_problem(s, v, f"{path}[{i}]")
            if problem:
                return problem
        return None
    if isinstance(space, gym.spaces.Dict):
        if not isinstance(value, dict) or set(value) != set(space.spaces):
            keys = ", ".join(repr(k) for k in space.spaces)
            return f"{path} is {_short(to_json(value))}, but {where} needs the keys {keys}"
        for key, s in space.spaces.items():
            problem = _action_problem(s, value[key], f"{path}[{key!r}]")
            if problem:
                return problem
        return None
    problem = observation_problem(space, value)
    return problem.replace("observation_space", "action_space") if problem else None


# --- arrays ---------------------------------------------------------------------------------


def encode_array(array: np.ndarray) -> dict[str, Any]:
    """An array as ``{"dtype": "<f4", "shape": [...], "data": "<base64 of the raw bytes>"}``
    (little-endian)."""
    header, raw = to_raw(array)
    return {**header, "data": base64.b64encode(raw).decode("ascii")}


def decode_array(data: Any, what: str = "array") -> np.ndarray:
    """What :func:`encode_array` wrote, checked: a numeric dtype, a shape whose size matches
    the bytes (a ``ValueError`` naming ``what`` otherwise)."""
    if not isinstance(data, Mapping) or set(data) != {"dtype", "shape", "data"}:
        raise ValueError(f"{what} is not an object with dtype, shape and data")
    dtype, shape, _ = read_header(data, what)
    try:
        raw = base64.b64decode(str(data["data"]), validate=True)
    except ValueError:
        raise ValueError(f"{what}'s data is not base64") from None
    return from_raw(raw, dtype, shape, what)


def encode_tree(value: Any) -> Any:
    """Dicts and lists with numpy arrays inside, arrays encoded (:func:`encode_array`)."""
    if isinstance(value, np.ndarray):
        return encode_array(value)
    if isinstance(value, Mapping):
        return {str(k): encode_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode_tree(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def decode_tree(value: Any) -> Any:
    """:func:`encode_tree` undone: every ``{"dtype", "shape", "data"}`` object an array."""
    if isinstance(value, Mapping):
        if set(value) == {"dtype", "shape", "data"}:
            return decode_array(value)
        return {k: decode_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_tree(v) for v in value]
    return value


def finite_number(value: Any, what: str) -> float:
    """A JSON number that is finite (a 422 otherwise)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise RequestError(422, "invalid_value", f"{what} must be a finite number, got {value!r}.")
    return float(value)
