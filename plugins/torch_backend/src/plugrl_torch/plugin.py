"""Registers the torch backend with plugrl (torch is imported only when a seed is set)."""

from __future__ import annotations

from typing import Any

from plugrl import hookimpl
from plugrl.framework import Framework


def _seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def _get_rng_state() -> Any:
    import torch

    return torch.get_rng_state().numpy()


def _set_rng_state(state: Any) -> None:
    import numpy as np
    import torch

    torch.set_rng_state(torch.from_numpy(np.asarray(state, dtype=np.uint8)))


@hookimpl
def register_frameworks(register: Any) -> None:
    register(
        "torch",
        Framework("torch", _seed, get_rng_state=_get_rng_state, set_rng_state=_set_rng_state),
    )
