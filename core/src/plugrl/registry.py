"""Registries of named things that plugins provide: algorithms, frameworks, explorations,
optimizers, models, envs and loggers.

Each registry is filled from the ``register_*`` hooks on first use and refilled when plugins
change. Names registered at run time (``register_env`` and friends) are kept across refills.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
import warnings
from collections.abc import Callable
from typing import Any

from plugrl import plugins
from plugrl.errors import PluginError, PlugrlError, did_you_mean

KINDS = (
    "algorithms",
    "frameworks",
    "policies",
    "explorations",
    "optimizers",
    "models",
    "envs",
    "loggers",
)

# Where the known plugin names live, so a missing one names the distribution to install.
KNOWN_DISTRIBUTIONS = {
    "algorithms": {
        "PPO": "plugrl-ppo",
        "DQN": "plugrl-dqn",
        "SimpleQ": "plugrl-dqn",
        "A2C": "plugrl-a3c",
        "A3C": "plugrl-a3c",
        "PG": "plugrl-pg",
    },
    "frameworks": {"torch": "plugrl-torch", "tf": "plugrl-tf", "tf2": "plugrl-tf"},
    "explorations": {
        name: "plugrl-exploration"
        for name in (
            "Random",
            "EpsilonGreedy",
            "PerWorkerEpsilonGreedy",
            "SoftQ",
            "GaussianNoise",
            "OrnsteinUhlenbeckNoise",
            "ParameterNoise",
        )
    },
}

_SINGULAR = {
    "algorithms": "algorithm",
    "frameworks": "framework",
    "policies": "policy",
    "explorations": "exploration",
    "optimizers": "optimizer",
    "models": "model",
    "envs": "env",
    "loggers": "logger",
}


class Registry:
    """Name -> object for one kind, with the plugin that provided each name."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, Any] | None = None
        self._sources: dict[str, str] = {}
        self._runtime: dict[str, Any] = {}
        self._lock = threading.RLock()

    def _fill(self) -> dict[str, Any]:
        with self._lock:
            if self._items is None:
                self._items, self._sources = self._collect()
                self._items.update(self._runtime)
                self._sources.update(dict.fromkeys(self._runtime, "<runtime>"))
            return self._items

    def _collect(self) -> tuple[dict[str, Any], dict[str, str]]:
        """Ask every plugin's ``register_<kind>`` hook, in pluggy's call order (the plugin
        registered last first); a hook that raises is warned about and skipped."""
        items: dict[str, Any] = {}
        sources: dict[str, str] = {}
        what = _SINGULAR[self.kind]
        hook = getattr(plugins.get_host().pm.hook, f"register_{self.kind}")
        for impl in reversed(hook.get_hookimpls()):
            source = impl.plugin_name

            def register(*args: Any, _source: str = source) -> None:
                *key, obj = args  # a name, or (algorithm, framework) for policies
                name = key[0] if len(key) == 1 else tuple(key)
                if name in items and sources[name] != _source:
                    warnings.warn(
                        f"{what} {name!r} is registered by both {sources[name]!r} and "
                        f"{_source!r}; keeping {sources[name]!r}'s.",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                    return
                items[name] = obj
                sources[name] = _source

            try:
                impl.function(*([register] if impl.argnames else []))
            except Exception as exc:  # a broken plugin must not take the registry down
                warnings.warn(
                    f"plugrl plugin {source!r} failed in register_{self.kind} and is skipped: "
                    f"{type(exc).__name__}: {exc}",
                    RuntimeWarning,
                    stacklevel=2,
                )
        return items, sources

    def invalidate(self) -> None:
        with self._lock:
            self._items = None

    def add(self, name: str, obj: Any) -> None:
        """Register ``obj`` under ``name`` from user code; replaces an earlier registration."""
        with self._lock:
            self._runtime[name] = obj
            if self._items is not None:
                self._items[name] = obj
                self._sources[name] = "<runtime>"

    def remove(self, name: str) -> None:
        """Forget what user code registered as ``name`` at run time (plugins' names stay)."""
        with self._lock:
            self._runtime.pop(name, None)
            self._items = None

    def runtime_items(self) -> dict[str, Any]:
        """What user code registered at run time (sent to remote workers)."""
        return dict(self._runtime)

    def names(self) -> list[str]:
        return sorted(self._fill())

    def source(self, name: str) -> str | None:
        self._fill()
        return self._sources.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._fill()

    def get(self, name: str) -> Any:
        """The object registered as ``name``, or a :class:`PluginError` saying what to install."""
        items = self._fill()
        if name in items:
            return items[name]
        raise PluginError(missing_message(self.kind, name, list(items)))

    def load(self, name: str) -> Any:
        """What is registered as ``name``, imported if it was registered by import path; a
        :class:`PluginError` naming the entry when that import (or loader) fails."""
        entry = self.get(name)
        try:
            return load(entry)
        except PlugrlError:
            raise
        except Exception as exc:  # a broken plugin module: say which entry and what to do
            shown = entry if isinstance(entry, str) else getattr(entry, "__qualname__", entry)
            raise PluginError(
                f"The {_SINGULAR[self.kind]} {name!r} (from plugin {self.source(name)!r}) is "
                f"registered as {shown!r}, which failed to load: {type(exc).__name__}: {exc}. "
                "Fix or reinstall that plugin (`plugrl plugins` lists what is installed; `-vv` "
                "shows the traceback)."
            ) from exc


def missing_message(kind: str, name: str, installed: list[str]) -> str:
    what = _SINGULAR[kind]
    message = f"Unknown {what} {name!r}."
    dist = KNOWN_DISTRIBUTIONS.get(kind, {}).get(name)
    failed = [f for f in plugins.get_host().failures if dist and f.distribution == dist]
    if failed:
        message += (
            f" It comes from {dist}, which is installed but failed to load: {failed[0].error}."
            " Run `plugrl plugins` for details."
        )
    elif dist and os.environ.get(plugins.ENV_VAR) is not None and _installed(dist):
        message += (
            f" It comes from {dist}, which is installed but not loaded: "
            f"{plugins.ENV_VAR}={os.environ.get(plugins.ENV_VAR, '')!r} leaves it out."
        )
    elif dist:
        message += f" It is provided by the {dist} distribution: pip install {dist}."
    else:
        message += did_you_mean(name, installed)
    shown = ", ".join(sorted(installed)) or "none"
    return f"{message} Installed {what}s: {shown}."


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


_registries = {kind: Registry(kind) for kind in KINDS}


def _invalidate_all() -> None:
    for reg in _registries.values():
        reg.invalidate()


plugins.on_change(_invalidate_all)


def registry(kind: str) -> Registry:
    """The registry of one kind (one of :data:`KINDS`)."""
    return _registries[kind]


def load(entry: Any) -> Any:
    """A registered class, given as the class, a zero-argument loader, or a
    ``"module:attribute"`` import path (imported only now, when it is used)."""
    if isinstance(entry, str):
        return plugins.import_object(entry)
    return entry if isinstance(entry, type) else entry()


def get_trainer_class(name: str) -> type:
    """The Trainer class registered as ``name`` (e.g. ``"PPO"``)."""
    return registry("algorithms").load(name)


def get_framework(name: str) -> Any:
    """The :class:`~plugrl.framework.Framework` registered as ``name`` (``"torch"``, ``"tf"``)."""
    return registry("frameworks").get(name)


def get_policy_class(algorithms: list[str], framework: str) -> type:
    """The policy registered for the first of ``algorithms`` (a trainer's name, then those it
    derives from) that has one on ``framework``; an error naming what is installed if none."""
    canonical = get_framework(framework).name  # also: an unknown framework names its plugin
    policies = registry("policies")
    for algorithm in algorithms:
        if (algorithm, canonical) in policies:
            return policies.load((algorithm, canonical))
    installed = sorted(fw for algo, fw in policies.names() if algo in algorithms)
    raise PluginError(
        f"{algorithms[0]} has no policy for framework {framework!r}; it has policies for: "
        f"{', '.join(installed) or 'none'}. Set config['framework'] to one of them, or install "
        "a plugin that registers one (register_policies)."
    )


def register_env(name: str, env_creator: Callable[[dict], Any]) -> None:
    """Register ``env_creator(env_config) -> gymnasium.Env`` under ``name``."""
    if not callable(env_creator):
        raise TypeError(f"register_env({name!r}, ...) needs a callable, got {env_creator!r}")
    registry("envs").add(name, env_creator)


def runtime_registrations(kinds: tuple[str, ...] = KINDS) -> dict[str, dict[str, Any]]:
    """What user code registered at run time, by kind: another process (a Ray actor) needs
    it handed over, since such registrations do not travel by themselves."""
    return {kind: registry(kind).runtime_items() for kind in kinds}


def add_runtime_registrations(registrations: dict[str, dict[str, Any]]) -> None:
    """Register in this process what :func:`runtime_registrations` took from another."""
    for kind, items in registrations.items():
        for name, obj in items.items():
            registry(kind).add(name, obj)
