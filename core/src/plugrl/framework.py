"""What a framework backend plugin registers (``register_frameworks``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Framework:
    """A deep-learning backend, selected by ``config["framework"] == name``.

    ``seed(seed)`` seeds the framework's own random generators (the rollout worker seeds
    ``random`` and numpy itself).
    """

    name: str
    seed: Callable[[int], Any]
