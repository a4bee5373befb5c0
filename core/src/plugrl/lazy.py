"""Lazy exports (PEP 562): a package names what it exports without importing it, so
``import plugrl``, plugin discovery and the CLI start fast and import no framework."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from importlib.util import find_spec
from typing import Any


def lazy_exports(
    package: str, exports: dict[str, str], needs: dict[str, str] | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """A module's ``__getattr__``, ``__dir__`` and ``__all__`` for ``package``.

    Each name of ``exports`` (name -> the module that defines it) is imported on first use and
    then kept in the package; other names are the package's submodules, imported on use.
    ``needs`` maps a name to a module it cannot work without (e.g. a TF policy to
    ``"tensorflow"``): ``__all__`` leaves the name out where that module is not installed, so
    a star-import still works there.
    """
    needs = needs or {}

    def __getattr__(name: str) -> Any:
        if name not in exports:
            # a submodule, as after an eager import of the package (``plugrl.sample_batch``)
            if not name.startswith("_") and find_spec(f"{package}.{name}") is not None:
                return importlib.import_module(f"{package}.{name}")
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name]), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    available = [name for name in exports if name not in needs or find_spec(needs[name])]
    return __getattr__, __dir__, sorted(available)
