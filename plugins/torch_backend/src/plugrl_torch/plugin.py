"""Registers the torch backend with plugrl (torch is imported only when a seed is set).

A seeded worker forks a CPU ``torch.Generator`` from the global one, which the torch
distributions draw from while it samples on the CPU (on a GPU they draw from that device's
global generator)."""

from __future__ import annotations

from typing import Any

from plugrl import hookimpl
from plugrl.framework import Framework


def _seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def _get_rng_state(generator: Any = None) -> Any:
    import torch

    return (torch.default_generator if generator is None else generator).get_state().numpy()


def _set_rng_state(state: Any, generator: Any = None) -> None:
    import numpy as np
    import torch

    target = torch.default_generator if generator is None else generator
    target.set_state(torch.from_numpy(np.asarray(state, dtype=np.uint8)))


def _fork_generator() -> Any:
    import torch

    generator = torch.Generator()
    generator.set_state(torch.get_rng_state())
    return generator


@hookimpl
def register_frameworks(register: Any) -> None:
    register(
        "torch",
        Framework(
            "torch",
            _seed,
            get_rng_state=_get_rng_state,
            set_rng_state=_set_rng_state,
            fork_generator=_fork_generator,
        ),
    )
