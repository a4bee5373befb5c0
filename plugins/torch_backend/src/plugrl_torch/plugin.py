"""Registers the torch backend with plugrl."""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from plugrl import hookimpl
from plugrl.framework import Framework


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), numpy and random."""
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@hookimpl
def register_frameworks(register: Any) -> None:
    register("torch", Framework(name="torch", distribution="plugrl-torch", seed=seed_everything))
