"""The process-wide random generators a rollout worker seeds: Python's ``random``, numpy's
global one and the framework's, and their state for checkpoints."""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from plugrl.registry import registry


def _framework(name: str | None) -> Any:
    return registry("frameworks").get(name) if name in registry("frameworks") else None


def seed_all(seed: int, framework: str | None) -> None:
    """Seed ``random``, numpy and ``framework``'s generator (when it is installed)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if _framework(framework):
        _framework(framework).seed(seed)


def random_state(framework: str | None) -> dict[str, Any]:
    """The generators' state, as plain values and numpy arrays."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
        "numpy": {"keys": keys, "pos": pos, "has_gauss": has_gauss, "gauss": gauss},
        "framework": _framework(framework).get_rng_state() if _framework(framework) else None,
    }


def set_random_state(state: dict[str, Any], framework: str | None) -> None:
    """Restore what :func:`random_state` returned."""
    python, numpy = state["python"], state["numpy"]
    random.setstate((python["version"], tuple(python["internal"]), python["gauss_next"]))
    np.random.set_state(
        ("MT19937", np.asarray(numpy["keys"], np.uint32), numpy["pos"], numpy["has_gauss"],
         numpy["gauss"])
    )  # fmt: skip
    if state.get("framework") is not None and _framework(framework):
        _framework(framework).set_rng_state(state["framework"])
