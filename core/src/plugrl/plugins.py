"""The plugin manager: discovers ``plugrl`` entry points, keeps failures, lists what loaded.

Entry points are walked one by one, each loaded in its own ``try``, so a broken plugin is
warned about and listed while the rest keep working. ``PLUGRL_PLUGINS`` (a comma list of
entry-point or distribution names, or empty for none) chooses which installed plugins load;
the kernel's built-ins always load, through the same hooks.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import os
import threading
import warnings
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from plugrl import hookspecs

ENTRY_POINT_GROUP = "plugrl"
ENV_VAR = "PLUGRL_PLUGINS"
BUILTIN_PLUGINS = (
    "plugrl.builtins.explorations",
    "plugrl.builtins.optimizers",
    "plugrl.builtins.loggers",
    "plugrl.builtins.commands",
    "plugrl.builtins.envs",
)


@dataclass
class PluginInfo:
    """One loaded plugin: its name, distribution, version and the hooks it implements."""

    name: str
    module: str
    distribution: str | None = None
    version: str | None = None
    hooks: list[str] = field(default_factory=list)
    builtin: bool = False


@dataclass
class PluginFailure:
    """A plugin that could not be loaded, with the error it raised."""

    name: str
    value: str
    distribution: str | None
    error: str


class PluginHost:
    """A pluggy manager plus bookkeeping of what loaded, what failed and extra run-time plugins."""

    def __init__(self, selection: list[str] | None = None, extra: list[str] | None = None):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.failures: list[PluginFailure] = []
        self.infos: dict[str, PluginInfo] = {}
        self.selection = selection
        self.extra: list[str] = []
        for name in BUILTIN_PLUGINS:
            self._register(importlib.import_module(name), name, builtin=True)
        self._load_entry_points()
        for ref in extra or []:
            self.register(import_object(ref))
        self.pm.check_pending()

    def _load_entry_points(self) -> None:
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist else None
            if self.selection is not None and not {ep.name, dist} & set(self.selection):
                continue
            try:
                plugin = ep.load()
                self._register(plugin, ep.name, distribution=dist)
                self._check_hook_names(ep.name)
            except Exception as exc:  # a broken plugin must not take the host down
                message = f"{type(exc).__name__}: {exc}"
                self.failures.append(PluginFailure(ep.name, ep.value, dist, message))
                warnings.warn(
                    f"plugrl plugin {ep.name!r} ({ep.value}) failed to load and is skipped: "
                    f"{message}",
                    RuntimeWarning,
                    stacklevel=2,
                )

    def _check_hook_names(self, name: str) -> None:
        """Refuse (and unregister) a plugin implementing a hook that has no spec (a typo)."""
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError:
            self.pm.unregister(name=name)
            self.infos.pop(name, None)
            raise

    def _register(
        self, plugin: Any, name: str, distribution: str | None = None, builtin: bool = False
    ) -> None:
        self.pm.register(plugin, name=name)
        version = metadata.version(distribution) if distribution else None
        hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
        module = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
        self.infos[name] = PluginInfo(name, module, distribution, version, hooks, builtin)

    def register(self, plugin: Any, name: str | None = None) -> None:
        """Register a plugin object at run time (tests, notebooks, user code)."""
        name = name or _qualified_name(plugin)
        if self.pm.has_plugin(name):
            self.unregister(name)
        self._register(plugin, name)
        self._check_hook_names(name)
        ref = _import_ref(plugin)
        if ref and ref not in self.extra:
            self.extra.append(ref)

    def unregister(self, name: str) -> None:
        """Remove a plugin registered by name."""
        plugin = self.pm.unregister(name=name)
        self.infos.pop(name, None)
        if _import_ref(plugin) in self.extra:
            self.extra.remove(_import_ref(plugin))

    def spec(self) -> dict:
        """What another process needs to rebuild this host (see :func:`reset`): the plugin
        selection and the modules and top-level classes registered at run time (instances
        and classes defined in ``__main__`` or a function cannot be rebuilt by name)."""
        return {"selection": self.selection, "extra": list(self.extra)}


_lock = threading.RLock()
_host: PluginHost | None = None
_listeners: list = []


def get_host() -> PluginHost:
    """The process-wide plugin host, built on first use."""
    global _host
    with _lock:
        if _host is None:
            _host = PluginHost(selection=_selection_from_env())
        return _host


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide :class:`pluggy.PluginManager` with every loaded plugin."""
    return get_host().pm


def reset(spec: dict | None = None) -> PluginHost:
    """Rebuild the host, from the environment or from another process's :meth:`PluginHost.spec`."""
    global _host
    with _lock:
        if spec is None:
            _host = PluginHost(selection=_selection_from_env())
        else:
            _host = PluginHost(selection=spec["selection"], extra=spec["extra"])
        _notify()
        return _host


def register_plugin(plugin: Any, name: str | None = None) -> None:
    """Register a plugin (module, class or instance with ``@hookimpl`` methods) at run time."""
    get_host().register(plugin, name)
    _notify()


def unregister_plugin(name: str) -> None:
    """Remove a plugin added with :func:`register_plugin`."""
    get_host().unregister(name)
    _notify()


def on_change(listener) -> None:
    """Call ``listener()`` whenever the set of plugins changes (registries drop their caches)."""
    _listeners.append(listener)


def _notify() -> None:
    for listener in _listeners:
        listener()


def _selection_from_env() -> list[str] | None:
    raw = os.environ.get(ENV_VAR)
    if raw is None:
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


def import_object(ref: str) -> Any:
    """Import ``"package.module"`` or ``"package.module:attr"`` / ``"package.module.Attr"``."""
    module_name, _, attr = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr) if attr else module
    except ImportError:
        if attr or "." not in ref:
            raise
        module_name, _, attr = ref.rpartition(".")
        return getattr(importlib.import_module(module_name), attr)


def _qualified_name(plugin: Any) -> str:
    if isinstance(plugin, ModuleType):
        return plugin.__name__
    target = plugin if isinstance(plugin, type) else type(plugin)
    return f"{target.__module__}:{target.__qualname__}"


def _import_ref(plugin: Any) -> str | None:
    """``"module"`` or ``"module:Class"`` when another process can import ``plugin`` by name."""
    if isinstance(plugin, ModuleType):
        return plugin.__name__
    if (
        isinstance(plugin, type)
        and plugin.__module__ != "__main__"
        and "<" not in (plugin.__qualname__)
    ):
        return f"{plugin.__module__}:{plugin.__qualname__}"
    return None
