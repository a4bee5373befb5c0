"""Checkpoint folders on disk: ``state.json`` (everything but arrays) and ``arrays.npz`` (every
numpy array, stored uncompressed and loaded without pickle), with a format version.

Writing is atomic and durable: files and folders are fsynced, a new folder replaces the old one
by two renames, and a save cut short at any moment (SIGKILL, full disk) leaves the previous
checkpoint readable; the next save finishes or removes what the cut one left behind.

Reading trusts nothing: every malformed file is one :class:`~plugrl.errors.CheckpointError`,
and array headers are checked against the bytes really stored before anything is allocated.
Nothing in a checkpoint runs code when loaded.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from plugrl.errors import CheckpointError

FORMAT_VERSION = 1
STATE_FILE = "state.json"
ARRAYS_FILE = "arrays.npz"
CHECKPOINT_PREFIX = "checkpoint_"
_ARRAY_REF = "__array__"
_MAX_STATE_BYTES = 256 * 2**20
_MAX_DEPTH = 100
# ".<name>.tmp-<pid>-<random>": a folder being written by process <pid>.
_TEMP = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)-")
# ".<name>.old": the previous checkpoint, set aside for the instant between two renames.
_ASIDE = re.compile(r"^\.(?P<name>.+)\.old$")


def split_arrays(tree: Any, arrays: dict[str, np.ndarray], path: str = "") -> Any:
    """A JSON-able copy of ``tree`` where every numpy array is replaced by a reference
    into ``arrays``."""
    if isinstance(tree, np.ndarray):
        if tree.dtype.hasobject:
            raise TypeError(f"Cannot store an object array at {path!r} in a checkpoint")
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


def join_arrays(tree: Any, arrays: dict[str, np.ndarray], depth: int = 0) -> Any:
    """Inverse of :func:`split_arrays`; a ``ValueError`` for a tree that is too deep or refers
    to an array that is not there."""
    if depth > _MAX_DEPTH:
        raise ValueError(f"state is nested more than {_MAX_DEPTH} levels deep")
    if isinstance(tree, dict):
        if set(tree) == {_ARRAY_REF}:
            ref = tree[_ARRAY_REF]
            if not isinstance(ref, str) or ref not in arrays:
                raise ValueError(f"state refers to array {ref!r}, which {ARRAYS_FILE} lacks")
            return arrays[ref]
        return {k: join_arrays(v, arrays, depth + 1) for k, v in tree.items()}
    if isinstance(tree, list):
        return [join_arrays(v, arrays, depth + 1) for v in tree]
    return tree


# --- writing ---------------------------------------------------------------------------------


def write_state(directory: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` as the checkpoint folder ``directory``, atomically and durably.

    A failing disk raises one :class:`CheckpointError`; the previous checkpoint of that name
    (if any) is intact either way.
    """
    target = Path(directory).expanduser()
    arrays: dict[str, np.ndarray] = {}
    payload = {"format_version": FORMAT_VERSION, "state": split_arrays(state, arrays)}
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        recover(target.parent)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
        try:
            _write_file(tmp / ARRAYS_FILE, lambda f: np.savez(f, **arrays))
            text = json.dumps(payload, indent=1, allow_nan=True)
            _write_file(tmp / STATE_FILE, lambda f: f.write(text.encode()))
            _fsync_dir(tmp)
            _replace(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        kept = " The previous checkpoint there is intact." if target.is_dir() else ""
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            advice = "Free some disk space or save to another folder."
        else:
            advice = "Check that the folder is writable, or save to another one."
        raise CheckpointError(
            f"Could not write checkpoint {str(target)!r}: {exc.strerror or exc}.{kept} {advice}"
        ) from None
    return target


def _write_file(path: Path, write: Callable[[IO[bytes]], Any]) -> None:
    with open(path, "wb") as file:
        write(file)
        file.flush()
        os.fsync(file.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(tmp: Path, target: Path) -> None:
    """Move the finished folder ``tmp`` to ``target``. An existing ``target`` is set aside
    first: a reader (and :func:`recover`) finds it there until the second rename is done."""
    if target.exists():
        aside = _aside(target)
        os.rename(target, aside)
        os.rename(tmp, target)
        _fsync_dir(target.parent)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.rename(tmp, target)
        _fsync_dir(target.parent)


def _aside(target: Path) -> Path:
    return target.with_name(f".{target.name}.old")


def recover(parent: str | os.PathLike) -> None:
    """Tidy what saves cut short left in ``parent``: a checkpoint set aside between two renames
    is put back (or dropped when its replacement is in place), and folders that dead
    processes were writing are removed."""
    parent = Path(parent)
    for entry in parent.iterdir() if parent.is_dir() else ():
        if not entry.is_dir():
            continue
        aside = _ASIDE.match(entry.name)
        if aside:
            target = parent / aside["name"]
            if not target.exists() and (entry / STATE_FILE).is_file():
                os.rename(entry, target)  # cut between the renames: it is the checkpoint
            else:
                shutil.rmtree(entry, ignore_errors=True)  # replaced (or half deleted already)
            continue
        temp = _TEMP.match(entry.name)
        if temp and not _alive(int(temp["pid"])):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process writes one folder at a time and removes its own
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prune_checkpoints(parent: str | os.PathLike, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` ``checkpoint_<n>`` folders in ``parent``; returns
    the deleted paths. Each is renamed to a temporary name first, so one whose deletion is cut
    short is never mistaken for a checkpoint."""
    parent = Path(parent)
    found = []
    for entry in parent.glob(f"{CHECKPOINT_PREFIX}*"):
        suffix = entry.name[len(CHECKPOINT_PREFIX) :]
        if entry.is_dir() and suffix.isdigit():
            found.append((int(suffix), entry))
    found.sort()
    deleted = []
    for _, entry in found[: max(0, len(found) - keep)]:
        doomed = entry.with_name(f".{entry.name}.tmp-{os.getpid()}-delete")
        os.rename(entry, doomed)
        shutil.rmtree(doomed, ignore_errors=True)
        deleted.append(entry)
    return deleted


# --- reading ---------------------------------------------------------------------------------


def read_state(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint folder (or a file inside it); any problem is one
    :class:`CheckpointError` saying what is wrong and what to do."""
    directory = _locate(path)
    try:
        payload = _read_json(directory / STATE_FILE)
        arrays = _read_arrays(directory / ARRAYS_FILE)
        return join_arrays(payload["state"], arrays)
    except CheckpointError:
        raise
    except Exception as exc:  # untrusted bytes: any way parsing fails means a bad checkpoint
        reason = "nesting too deep" if isinstance(exc, RecursionError) else exc
        raise CheckpointError(
            f"Checkpoint {str(directory)!r} is corrupt or incomplete ({type(exc).__name__}: "
            f"{reason}). Restore from another checkpoint."
        ) from None


def _locate(path: str | os.PathLike) -> Path:
    directory = Path(path).expanduser()
    if directory.is_file():
        directory = directory.parent
    if not directory.exists():
        aside = _aside(directory)  # a save of this name was cut between its two renames
        if (aside / STATE_FILE).is_file():
            return aside
        raise CheckpointError(f"Checkpoint {str(path)!r} does not exist.")
    if not (directory / STATE_FILE).is_file():
        found = sorted(p.name for p in directory.glob(f"{CHECKPOINT_PREFIX}*"))
        hint = f" It holds checkpoints: {', '.join(found)}." if found else ""
        raise CheckpointError(
            f"{str(directory)!r} is not a plugrl checkpoint (no {STATE_FILE}).{hint}"
        )
    return directory


def _read_json(file: Path) -> dict[str, Any]:
    size = file.stat().st_size
    if size > _MAX_STATE_BYTES:
        raise ValueError(f"{STATE_FILE} is {size} bytes, more than a checkpoint ever holds")
    payload = json.loads(file.read_bytes())
    if not isinstance(payload, dict) or not isinstance(payload.get("state"), dict):
        raise ValueError(f"{STATE_FILE} must hold an object with a 'state' object")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"Checkpoint {str(file.parent)!r} has format version {version!r}; this plugrl "
            f"reads version {FORMAT_VERSION}."
        )
    return payload


def _read_arrays(file: Path) -> dict[str, np.ndarray]:
    """Every array in ``file``, after checking each member's header against its stored size
    (a header may not claim more data than is there) and refusing pickled objects."""
    with zipfile.ZipFile(file) as archive:
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                raise ValueError(f"{ARRAYS_FILE} member {info.filename!r} is compressed")
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read_header(member)
                if dtype.hasobject:
                    raise ValueError(f"{info.filename!r} holds Python objects (needs pickle)")
                claimed = math.prod(shape) * dtype.itemsize
                stored = info.file_size - member.tell()
                if claimed != stored:
                    raise ValueError(
                        f"{info.filename!r} claims {shape} x {dtype} ({claimed} bytes) but "
                        f"holds {stored} bytes"
                    )
    with np.load(file, allow_pickle=False) as arrays:
        return {name: arrays[name] for name in arrays.files}
