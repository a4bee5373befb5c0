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
    """The generators' state, as plain values and numpy arrays (the framework's with its
    name)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    backend = _framework(framework)
    return {
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
        "numpy": {"keys": keys, "pos": pos, "has_gauss": has_gauss, "gauss": gauss},
        "framework": backend.get_rng_state() if backend else None,
        "framework_name": backend.name if backend else None,
    }


def set_random_state(state: dict[str, Any], framework: str | None) -> None:
    """Restore what :func:`random_state` returned (the framework's generator only when the
    state is that framework's)."""
    python, numpy = state["python"], state["numpy"]
    random.setstate((python["version"], tuple(python["internal"]), python["gauss_next"]))
    np.random.set_state(
        ("MT19937", np.asarray(numpy["keys"], np.uint32), numpy["pos"], numpy["has_gauss"],
         numpy["gauss"])
    )  # fmt: skip
    backend = _framework(framework)
    # a framework's own state only (a checkpoint may come from another framework); states
    # saved before the name was (until 2026-12) were torch's: TF's was None
    saved_by = state.get("framework_name", "torch")
    if state.get("framework") is not None and backend and backend.name == saved_by:
        backend.set_rng_state(state["framework"])
