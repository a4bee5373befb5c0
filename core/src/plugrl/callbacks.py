"""User callbacks: hook implementations passed in ``config["callbacks"]``.

Three styles work, alone or mixed in a list:

* a class (or instance) whose methods are marked ``@hookimpl`` and named like the lifecycle
  hooks in :mod:`plugrl.hookspecs`;
* a :class:`DefaultCallbacks` subclass overriding some ``on_*`` methods (RLlib style, with
  keyword-only arguments and ``**kwargs``);
* the legacy dict ``{"on_episode_end": fn(info), ...}``.

A class may also be named by its import path, ``"package.module:ClassName"`` (the form a
``--config`` JSON or a YAML file carries).

Each is wrapped so pluggy dispatches to it with only the arguments it accepts. Installed plugins
that implement lifecycle hooks are called too.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pluggy

from plugrl import hookspecs
from plugrl.errors import ConfigError, did_you_mean
from plugrl.plugins import get_plugin_manager, import_object


class DefaultCallbacks:
    """Base class for RLlib-style callbacks: override the ``on_*`` methods you need.

    Every method receives keyword arguments only (see :mod:`plugrl.hookspecs` for the names);
    training-level ones get the trainer as both ``trainer`` and ``algorithm``.
    """

    def __init__(self, legacy_callbacks_dict: dict | None = None):
        self.legacy_callbacks = legacy_callbacks_dict or {}

    def on_episode_start(self, *, worker, base_env, policies, episode, env_index, **kwargs): ...

    def on_episode_step(self, *, worker, base_env, episode, env_index, **kwargs): ...

    def on_episode_end(self, *, worker, base_env, policies, episode, env_index, **kwargs): ...

    def on_postprocess_trajectory(
        self,
        *,
        worker,
        episode,
        agent_id,
        policy_id,
        policies,
        postprocessed_batch,
        original_batches,
        **kwargs,
    ): ...

    def on_sample_end(self, *, worker, samples, **kwargs): ...

    def on_learn_on_batch(self, *, policy, train_batch, result, **kwargs): ...

    def on_trainer_init(self, *, trainer, **kwargs): ...

    def on_train_result(self, *, trainer, result, **kwargs): ...

    def on_evaluate_start(self, *, trainer, **kwargs): ...

    def on_evaluate_end(self, *, trainer, evaluation_metrics, **kwargs): ...

    def on_sub_environment_created(self, *, worker, sub_environment, env_context, **kwargs): ...


class MultiCallbacks(DefaultCallbacks):
    """Several callbacks classes as one: ``"callbacks": MultiCallbacks([A, B])``."""

    def __init__(self, callbacks: list):
        super().__init__()
        self.callbacks = list(callbacks)

    def __call__(self, *args: Any, **kwargs: Any) -> MultiCallbacks:
        return self


# Legacy dict key -> (hook it implements, {info key: hook argument}).
_LEGACY: dict[str, tuple[str, dict[str, str]]] = {
    "on_episode_start": (
        "on_episode_start",
        {"env": "base_env", "policy": "policies", "episode": "episode"},
    ),
    "on_episode_step": ("on_episode_step", {"env": "base_env", "episode": "episode"}),
    "on_episode_end": (
        "on_episode_end",
        {"env": "base_env", "policy": "policies", "episode": "episode"},
    ),
    "on_sample_end": ("on_sample_end", {"worker": "worker", "samples": "samples"}),
    "on_train_result": ("on_train_result", {"trainer": "trainer", "result": "result"}),
    "on_postprocess_traj": (
        "on_postprocess_trajectory",
        {
            "episode": "episode",
            "agent_id": "agent_id",
            "post_batch": "postprocessed_batch",
            "all_pre_batches": "original_batches",
        },
    ),
}


def _legacy_info(hook: str, names: dict[str, str], kwargs: dict) -> dict:
    info = {key: kwargs[arg] for key, arg in names.items()}
    if hook == "on_postprocess_trajectory":  # the policy and its batch before postprocessing
        policy = kwargs["policies"][kwargs["policy_id"]]
        info["pre_batch"] = (policy, kwargs["original_batches"][kwargs["agent_id"]])
    return info


def _spec_args(hook: str) -> list[str]:
    return list(inspect.signature(getattr(hookspecs, hook)).parameters)


class _Forwarder:
    """A pluggy plugin that forwards hook calls to one user callbacks object's methods."""

    def __init__(self, methods: dict[str, Callable]):
        for hook, method in methods.items():
            setattr(self, hook, _forwarding_impl(hook, method))


def _forwarding_impl(hook: str, method: Callable) -> Callable:
    names = _spec_args(hook)
    params = inspect.signature(method).parameters.values()
    takes_all = any(p.kind is p.VAR_KEYWORD for p in params)
    accepted = {p.name for p in params}

    def forward(*args: Any) -> Any:
        kwargs = dict(zip(names, args, strict=True))
        if not takes_all:
            kwargs = {k: v for k, v in kwargs.items() if k in accepted}
        return method(**kwargs)

    # pluggy reads argument names from ``__code__`` (not ``__signature__``), so the impl needs
    # real named parameters for pluggy to pass it anything.
    namespace: dict[str, Any] = {"_forward": forward}
    exec(f"def impl({', '.join(names)}):\n    return _forward({', '.join(names)})", namespace)
    impl = namespace["impl"]
    return hookspecs.hookimpl(impl)


def _legacy_impl(hook: str, fn: Callable, names: dict[str, str]) -> Callable:
    def method(**kwargs: Any) -> Any:
        return fn(_legacy_info(hook, names, kwargs))

    return method


def _to_plugins(spec: Any) -> list[Any]:
    if spec is None:
        return []
    if isinstance(spec, str):  # "module:Class", the only form CLI JSON and YAML can carry
        return _to_plugins(_import_callbacks(spec))
    if isinstance(spec, (list, tuple)):
        return [p for item in spec for p in _to_plugins(item)]
    if isinstance(spec, MultiCallbacks):
        return _to_plugins(spec.callbacks)
    if isinstance(spec, dict):
        methods = {}
        for key, fn in spec.items():
            if key not in _LEGACY:
                raise ConfigError(
                    f"Unknown callback {key!r} in the callbacks dict."
                    f"{did_you_mean(key, _LEGACY)} Valid: {', '.join(_LEGACY)}."
                )
            hook, names = _LEGACY[key]
            methods[hook] = _legacy_impl(hook, fn, names)
        return [_Forwarder(methods)]
    if isinstance(spec, type):
        try:
            spec = spec()
        except TypeError as exc:
            raise ConfigError(
                f"callbacks class {spec.__name__} must be constructible without arguments: {exc}"
            ) from None
    legacy = spec.legacy_callbacks if isinstance(spec, DefaultCallbacks) else {}
    return _to_plugins(legacy or None) + [_Forwarder(_callback_methods(spec))]


def _import_callbacks(ref: str) -> Any:
    try:
        return import_object(ref)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(
            f"callbacks {ref!r} cannot be imported ({type(exc).__name__}: {exc}). Give it as "
            "'package.module:ClassName', importable where plugrl runs."
        ) from None


def _callback_methods(obj: Any) -> dict[str, Callable]:
    methods = {}
    for name in dir(type(obj)):
        if not name.startswith("on_"):
            continue
        if name not in hookspecs.CALLBACK_HOOKS:
            raise ConfigError(
                f"{type(obj).__name__}.{name} is not a callback hook."
                f"{did_you_mean(name, hookspecs.CALLBACK_HOOKS)} "
                f"Hooks: {', '.join(hookspecs.CALLBACK_HOOKS)}."
            )
        if getattr(type(obj), name) is getattr(DefaultCallbacks, name, None):
            continue  # not overridden: nothing to call
        methods[name] = getattr(obj, name)
    return methods


class Callbacks:
    """Dispatches lifecycle hooks to installed plugins and the user's callbacks."""

    def __init__(self, spec: Any = None):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        for i, plugin in enumerate(_to_plugins(spec)):
            self.pm.register(plugin, name=f"user-callbacks-{i}")
        self._global = get_plugin_manager()
        self._callers: dict[str, list] = {}
        for hook in hookspecs.CALLBACK_HOOKS:
            callers = [getattr(pm.hook, hook) for pm in (self._global, self.pm)]
            self._callers[hook] = [c for c in callers if c.get_hookimpls()]

    def active(self, hook: str) -> bool:
        """Whether anything implements ``hook`` (lets hot paths skip building arguments)."""
        return bool(self._callers[hook])

    def call(self, hook: str, **kwargs: Any) -> None:
        """Call every implementation of ``hook`` with ``kwargs``."""
        if "trainer" in kwargs:
            kwargs["algorithm"] = kwargs["trainer"]
        for caller in self._callers[hook]:
            caller(**kwargs)
