"""Lazy exports: a plugin package names what it exports without importing a framework, so
plugin discovery and the CLI start fast."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.util import find_spec
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports each name (name -> the module
    that defines it) on first use."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(exports[name]), name)

    return __getattr__


def lazy_policies(
    package: str, policies: dict[str, tuple[str, str]]
) -> tuple[Callable[[str], Any], list[str]]:
    """:func:`lazy_exports` of an algorithm's policies (name -> ``(submodule of package, the
    framework module it needs)``, e.g. ``("torch_policy", "torch")``), and the names whose
    framework is installed, for ``__all__`` (a star-import then works on a machine without
    one of them)."""
    exports = {name: f"{package}.{submodule}" for name, (submodule, _) in policies.items()}
    available = [name for name, (_, needs) in policies.items() if find_spec(needs)]
    return lazy_exports(package, exports), available
