"""A rollout worker's random generators: it seeds the process-wide ones (Python's ``random``,
numpy's global one, the framework's) with its own seed before it builds anything, then forks
its own from them once it is built. Its actions, explorations and episode ids draw from its
own while it samples, so workers sharing a process (a local evaluation worker running beside
training) draw repeatable streams, each from its own seed. Also the generators' state for
checkpoints."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from plugrl.registry import registry


def _framework(name: str | None) -> Any:
    return registry("frameworks").get(name) if name in registry("frameworks") else None


def worker_seed(seed: int | None, worker_index: int, in_evaluation: bool) -> int | None:
    """A worker's seed: the config's plus 1000 per worker index, plus 500 on evaluation
    workers (their indices start at 0 again), so no two workers of a trainer draw the same
    streams; a worker resets its env ``i`` with its seed plus ``i``."""
    if seed is None:
        return None
    return seed + 1000 * worker_index + (500 if in_evaluation else 0)


def seed_all(seed: int, framework: str | None) -> None:
    """Seed ``random``, numpy and ``framework``'s generator (when it is installed)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if _framework(framework):
        _framework(framework).seed(seed)


@dataclass
class WorkerGenerators:
    """A worker's own generators: ``python`` (episode ids), ``numpy`` (explorations) and
    ``framework`` (the framework's generator its distributions draw from; None where the
    framework has no generators of its own, then they draw from its global one)."""

    python: random.Random
    numpy: np.random.RandomState
    framework: Any


def fork_generators(framework: str | None) -> WorkerGenerators:
    """Generators in the state the process-wide ones are in now, so a worker drawing from
    them draws what it would have drawn from those."""
    python = random.Random()
    python.setstate(random.getstate())
    numpy = np.random.RandomState()
    numpy.set_state(np.random.get_state())
    backend = _framework(framework)
    return WorkerGenerators(python, numpy, backend.fork_generator() if backend else None)


class _Active(threading.local):
    generators: WorkerGenerators | None = None  # of the worker sampling on this thread


_active = _Active()


@contextmanager
def drawing_from(generators: WorkerGenerators | None) -> Iterator[None]:
    """Draws on this thread come from ``generators`` (None: the process-wide ones)."""
    previous, _active.generators = _active.generators, generators
    try:
        yield
    finally:
        _active.generators = previous


def python_random() -> random.Random | ModuleType:
    """What Python's draws come from on this thread: the sampling worker's generator, else
    the ``random`` module (the same methods: ``getrandbits``, ``random``...)."""
    generators = _active.generators
    return random if generators is None else generators.python


def numpy_random() -> np.random.RandomState | ModuleType:
    """What numpy draws come from on this thread: the sampling worker's generator, else
    ``np.random``'s global functions (the same methods: ``normal``, ``random_sample``...)."""
    generators = _active.generators
    return np.random if generators is None else generators.numpy


def framework_generator() -> Any:
    """The framework generator of the worker sampling on this thread (None: the global one)."""
    generators = _active.generators
    return None if generators is None else generators.framework


def random_state(
    framework: str | None, generators: WorkerGenerators | None = None
) -> dict[str, Any]:
    """The generators' state, as plain values and numpy arrays (the framework's with its
    name): the process-wide ones', and under ``"worker"`` the worker's own."""
    backend = _framework(framework)
    state = {
        "python": _python_state(random.getstate()),
        "numpy": _numpy_state(np.random.get_state()),
        "framework": backend.get_rng_state() if backend else None,
        "framework_name": backend.name if backend else None,
    }
    if generators is not None:
        own = generators.framework
        state["worker"] = {
            "python": _python_state(generators.python.getstate()),
            "numpy": _numpy_state(generators.numpy.get_state()),
            "framework": backend.get_rng_state(own) if backend and own is not None else None,
        }
    return state


def set_random_state(
    state: dict[str, Any], framework: str | None, generators: WorkerGenerators | None = None
) -> None:
    """Restore what :func:`random_state` returned (a framework's generators only from a state
    of that framework). A state without the worker's own (saved before workers had them, until
    2026-12) sets them to the restored process-wide ones, which workers drew from then."""
    random.setstate(_python_tuple(state["python"]))
    np.random.set_state(_mt19937(state["numpy"]))
    backend = _framework(framework)
    # states saved before the name was (until 2026-12) were torch's: TF's was None
    own_framework = backend is not None and backend.name == state.get("framework_name", "torch")
    if state.get("framework") is not None and own_framework:
        backend.set_rng_state(state["framework"])
    if generators is None:
        return
    # in place: traced passes keep the generator they captured
    worker = state.get("worker") or {
        "python": state["python"],
        "numpy": state["numpy"],
        "framework": backend.get_rng_state() if own_framework else None,
    }
    generators.python.setstate(_python_tuple(worker.get("python", state["python"])))
    generators.numpy.set_state(_mt19937(worker["numpy"]))
    if worker["framework"] is not None and own_framework and generators.framework is not None:
        backend.set_rng_state(worker["framework"], generators.framework)


def _python_state(state: tuple) -> dict[str, Any]:
    version, internal, gauss_next = state
    return {"version": version, "internal": list(internal), "gauss_next": gauss_next}


def _python_tuple(python: dict[str, Any]) -> tuple:
    return python["version"], tuple(python["internal"]), python["gauss_next"]


def _numpy_state(state: tuple) -> dict[str, Any]:
    _, keys, pos, has_gauss, gauss = state
    return {"keys": keys, "pos": pos, "has_gauss": has_gauss, "gauss": gauss}


def _mt19937(numpy: dict[str, Any]) -> tuple:
    return (
        "MT19937", np.asarray(numpy["keys"], np.uint32), numpy["pos"], numpy["has_gauss"],
        numpy["gauss"],
    )  # fmt: skip
