"""Registers the torch backend with plugrl (torch is imported only when a seed is set)."""

from __future__ import annotations

from typing import Any

from plugrl import hookimpl
from plugrl.framework import Framework


def _seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


@hookimpl
def register_frameworks(register: Any) -> None:
    register("torch", Framework(name="torch", seed=_seed))
