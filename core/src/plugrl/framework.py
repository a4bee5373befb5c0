"""What a framework backend plugin registers (``register_frameworks``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Framework:
    """A deep-learning backend.

    ``seed(seed)`` seeds the framework's random generators; ``policy_base`` is its Policy
    subclass (for ``isinstance`` checks and documentation).
    """

    name: str
    distribution: str
    seed: Callable[[int], None]
    policy_base: Any = None
