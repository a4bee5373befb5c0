"""Registers the torch backend with plugrl."""

from __future__ import annotations

from typing import Any

import torch

from plugrl import hookimpl
from plugrl.framework import Framework


@hookimpl
def register_frameworks(register: Any) -> None:
    register("torch", Framework(name="torch", seed=torch.manual_seed))
