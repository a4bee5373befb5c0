"""What a framework backend plugin registers (``register_frameworks``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Framework:
    """A deep-learning backend, selected by ``config["framework"]`` (an alias such as "tf2"
    registers the Framework of its canonical ``name``, under which policies are registered).

    ``seed(seed)`` seeds the framework's own global random generator; ``get_rng_state()`` and
    ``set_rng_state(state)`` read and restore it as numpy arrays (None where the framework
    cannot). ``fork_generator()`` returns a new generator in the global one's state, or None
    where the backend has none: a seeded rollout worker forks one once it is built, and the
    backend's distributions draw from it while that worker samples
    (:func:`plugrl.sampling.seeding.framework_generator`). A backend that forks takes that
    generator as the optional last argument of ``get_rng_state`` and ``set_rng_state``. Each
    imports the framework only when called. A checkpoint restores a state only into the
    framework that saved it (by ``name``; states saved before names were, until 2026-12,
    count as torch's).
    """

    name: str
    seed: Callable[[int], Any]
    get_rng_state: Callable[..., Any] = lambda generator=None: None
    set_rng_state: Callable[..., None] = lambda state, generator=None: None
    fork_generator: Callable[[], Any] = lambda: None
