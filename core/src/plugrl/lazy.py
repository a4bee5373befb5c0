"""Lazy exports of an algorithm plugin's framework-specific policies."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.util import find_spec
from typing import Any

BACKEND_MODULES = {
    "torch_policy": ("plugrl_torch", "torch"),
    "tf_policy": ("plugrl_tf", "tensorflow"),
}
"""Policy submodule name -> the modules its backend needs."""


def lazy_policies(package: str, policies: dict[str, str]) -> tuple[Callable[[str], Any], list[str]]:
    """A module ``__getattr__`` that imports each policy (name -> submodule of ``package``,
    e.g. ``"torch_policy"``) on first use, so importing the plugin imports no framework; and
    the names whose backend is installed, for ``__all__`` (a star-import then works on a
    machine without one of the backends)."""

    def __getattr__(name: str) -> Any:
        if name in policies:
            module = importlib.import_module(f"{package}.{policies[name]}")
            return getattr(module, name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    available = [
        name
        for name, submodule in policies.items()
        if all(find_spec(m) for m in BACKEND_MODULES.get(submodule, ()))
    ]
    return __getattr__, available
