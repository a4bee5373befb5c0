"""Checkpoints: a folder with ``state.json`` (everything but arrays) and ``arrays.npz``
(every numpy array, loaded without pickle), written atomically, with a format version.

Nothing in a checkpoint runs code when loaded.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from plugrl.errors import CheckpointError

FORMAT_VERSION = 1
STATE_FILE = "state.json"
ARRAYS_FILE = "arrays.npz"
_ARRAY_REF = "__array__"


def split_arrays(tree: Any, arrays: dict[str, np.ndarray], path: str = "") -> Any:
    """A JSON-able copy of ``tree`` where every numpy array is replaced by a reference
    into ``arrays``."""
    if isinstance(tree, np.ndarray):
        arrays[path] = tree
        return {_ARRAY_REF: path}
    if isinstance(tree, np.generic):
        return tree.item()
    if isinstance(tree, dict):
        return {str(k): split_arrays(v, arrays, f"{path}/{k}") for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [split_arrays(v, arrays, f"{path}/{i}") for i, v in enumerate(tree)]
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    raise TypeError(f"Cannot store {type(tree).__name__} at {path!r} in a checkpoint")


def join_arrays(tree: Any, arrays: Any) -> Any:
    """Inverse of :func:`split_arrays`."""
    if isinstance(tree, dict):
        if set(tree) == {_ARRAY_REF}:
            return arrays[tree[_ARRAY_REF]]
        return {k: join_arrays(v, arrays) for k, v in tree.items()}
    if isinstance(tree, list):
        return [join_arrays(v, arrays) for v in tree]
    return tree


def write_state(directory: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``directory`` atomically (a temporary sibling, then a rename)."""
    target = Path(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        arrays: dict[str, np.ndarray] = {}
        tree = split_arrays(state, arrays)
        np.savez(tmp / ARRAYS_FILE, **arrays)
        payload = {"format_version": FORMAT_VERSION, "state": tree}
        (tmp / STATE_FILE).write_text(json.dumps(payload, indent=1, allow_nan=True))
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def read_state(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint folder (or a file inside it); errors say what is wrong and what to do."""
    directory = Path(path).expanduser()
    if directory.is_file():
        directory = directory.parent
    if not directory.exists():
        raise CheckpointError(f"Checkpoint {str(path)!r} does not exist.")
    state_file = directory / STATE_FILE
    if not state_file.exists():
        found = sorted(p.name for p in directory.glob("checkpoint_*"))
        hint = f" It holds checkpoints: {', '.join(found)}." if found else ""
        raise CheckpointError(
            f"{str(directory)!r} is not a plugrl checkpoint (no {STATE_FILE}).{hint}"
        )
    try:
        payload = json.loads(state_file.read_text())
        version = payload.get("format_version")
        if version != FORMAT_VERSION:
            raise CheckpointError(
                f"Checkpoint {str(directory)!r} has format version {version!r}; this plugrl "
                f"reads version {FORMAT_VERSION}."
            )
        with np.load(directory / ARRAYS_FILE, allow_pickle=False) as arrays:
            return join_arrays(payload["state"], {k: arrays[k] for k in arrays.files})
    except CheckpointError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise CheckpointError(
            f"Checkpoint {str(directory)!r} is corrupt or incomplete ({type(exc).__name__}: "
            f"{exc}). Restore from another checkpoint."
        ) from None
