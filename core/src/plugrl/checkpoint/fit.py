"""Does a checkpoint's state fit a trainer? Compared with what the trainer would save now.

The saved tree must have the current tree's shape: the same keys, list lengths, kinds of
scalar, and every array the same shape and dtype, with finite values. A few entries
legitimately differ between a checkpoint and a fresh trainer of the same kind and are only
checked when applied: the run's config, optimizer moments (made on the first update, one form
per framework), replay buffers (their fill level), the episodes metrics are smoothed over and
random generators' states (one form per framework).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

VARIABLE_ENTRIES = frozenset(
    {"config", "optimizer_state", "buffer", "buffers", "episode_history", "rng", "shuffle_rng"}
)


def first_mismatch(saved: Any, current: Any, path: str = "") -> str | None:
    """A sentence naming the first place where ``saved`` does not fit ``current``, or None."""
    where = path or "the state"
    if current is None:
        return None
    if isinstance(current, dict):
        if not isinstance(saved, dict):
            return f"{where} is {_kind(saved)}, expected an object"
        for key in sorted(current.keys() - saved.keys() - VARIABLE_ENTRIES):
            return f"{path}/{key} is missing"
        for key in sorted(saved.keys() - current.keys() - VARIABLE_ENTRIES):
            return f"{path}/{key} is not part of this trainer's state"
        for key in sorted((current.keys() & saved.keys()) - VARIABLE_ENTRIES):
            problem = first_mismatch(saved[key], current[key], f"{path}/{key}")
            if problem:
                return problem
        return None
    if isinstance(current, list):
        if not isinstance(saved, list) or len(saved) != len(current):
            return f"{where} is {_kind(saved)}, expected a list of {len(current)}"
        for i, (s, c) in enumerate(zip(saved, current, strict=True)):
            problem = first_mismatch(s, c, f"{path}/{i}")
            if problem:
                return problem
        return None
    if isinstance(current, np.ndarray):
        if not isinstance(saved, np.ndarray):
            return f"{where} is {_kind(saved)}, expected an array"
        if saved.shape != current.shape or saved.dtype != current.dtype:
            return (
                f"{where} has shape {saved.shape} and dtype {saved.dtype}, this trainer's "
                f"has shape {current.shape} and dtype {current.dtype}"
            )
        if saved.dtype.kind in "fc" and not np.isfinite(saved).all():
            return f"{where} holds NaN or infinite values"
        return None
    if _kind(saved) != _kind(current) and not (
        isinstance(current, float) and _kind(saved) == "an integer"
    ):
        return f"{where} is {_kind(saved)}, expected {_kind(current)}"
    if isinstance(saved, float) and not np.isfinite(saved):
        return f"{where} is {saved}, not a finite number"
    return None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, np.integer)):
        return "an integer"
    if isinstance(value, (float, np.floating)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return "an object" if isinstance(value, dict) else type(value).__name__


def space_signature(space: gym.Space) -> str:
    """A short, stable description of a space's type and shape (not its bounds)."""
    if isinstance(space, gym.spaces.Discrete):
        return f"Discrete({int(space.n)})"
    if isinstance(space, gym.spaces.MultiDiscrete):
        return f"MultiDiscrete({space.nvec.tolist()})"
    if isinstance(space, gym.spaces.MultiBinary):
        return f"MultiBinary({space.n})"
    if isinstance(space, gym.spaces.Dict):
        inner = ", ".join(f"{k}: {space_signature(s)}" for k, s in space.spaces.items())
        return f"Dict({inner})"
    if isinstance(space, gym.spaces.Tuple):
        return f"Tuple({', '.join(space_signature(s) for s in space.spaces)})"
    return f"{type(space).__name__}(shape={tuple(space.shape or ())}, dtype={space.dtype})"
