"""What a framework backend plugin registers (``register_frameworks``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Framework:
    """A deep-learning backend, selected by ``config["framework"]`` (an alias such as "tf2"
    registers the Framework of its canonical ``name``, under which policies are registered).

    ``seed(seed)`` seeds the framework's own random generators (the rollout worker seeds
    ``random`` and numpy itself); it imports the framework only when called.
    """

    name: str
    seed: Callable[[int], Any]
