"""The template machinery shared by ``build_trainer`` and the backends' ``build_*_policy``.

A template class keeps its customisable functions in ``_template`` (name -> function or None).
``with_updates(**overrides)`` returns a real subclass whose ``_template`` is the parent's
updated with the overrides; unknown override names are refused, ``name`` sets ``__name__``,
and ``mixins`` are placed before the parent in the MRO (their methods win and can call
``super()``; their ``__init__`` is not called on construction: call it from a hook such as
``before_loss_init``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from plugrl import plugins
from plugrl.config import COMMON_CONFIG, merge_dicts
from plugrl.errors import ConfigError, did_you_mean


class TemplateClass:
    """Mixin for classes built from a template of named functions."""

    _template: dict[str, Any] = {}

    @classmethod
    def with_updates(cls, **overrides: Any) -> type:
        """A subclass with some template functions replaced (``name=`` renames it)."""
        return make_template_class(cls, overrides)


def make_template_class(base: type, overrides: dict[str, Any]) -> type:
    """Build a subclass of ``base`` (a :class:`TemplateClass`) from template overrides."""
    overrides = dict(overrides)
    name = overrides.pop("name", None) or base.__name__
    mixins = tuple(overrides.pop("mixins", None) or ())
    unknown = [key for key in overrides if key not in base._template]
    if unknown:
        key = unknown[0]
        raise ConfigError(
            f"{base.__name__}.with_updates() got an unknown argument {key!r}."
            f"{did_you_mean(key, base._template)} Valid: name, mixins, "
            f"{', '.join(sorted(base._template))}."
        )
    namespace = {
        "_template": {**base._template, **overrides},
        "__module__": _caller_module(),
        "__qualname__": name,
        "__doc__": base.__doc__,
    }
    if mixins:  # a mixin's own __init__ is called by the template's hooks, not on construction
        namespace["__init__"] = base.__init__
    return type(name, (*mixins, base), namespace)


_TEMPLATE_MODULES = (
    "plugrl.policy.template",
    "plugrl.trainer.template",
    "plugrl.trainer.trainer",
    "plugrl_torch.template",
    "plugrl_tf.template",
)


def _caller_module() -> str:
    """The module of the user code that asked for the class (so pickling finds it)."""
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module not in _TEMPLATE_MODULES:
            return module
        frame = frame.f_back
    return __name__


class TemplatePolicy(TemplateClass):
    """What the backends' template policies (``build_torch_policy``, ``build_tf_policy``) share:
    the construction order of the hook functions, postprocessing and stats.

    A backend's template class lists it before its policy class and calls
    :meth:`_init_from_template` from ``__init__``.
    """

    def _init_from_template(
        self,
        observation_space: Any,
        action_space: Any,
        config: dict,
        *,
        get_action_dist: Callable[[Any, dict], tuple[type, int]],
        get_model: Callable[..., Any],
        init_backend: Callable[[dict, Any, type], None],
    ) -> None:
        """Merge defaults, run ``before_init``, build the distribution class and model, call
        ``init_backend(config, model, dist_class)`` (the backend policy's ``__init__``), run
        ``before_loss_init`` and ``after_init``, and tell plugins the policy exists."""
        t = self._template
        # Missing keys take the defaults (COMMON_CONFIG unless the template names others), so
        # a policy built standalone with a partial config such as ``{}`` works.
        defaults = t["get_default_config"]() if t["get_default_config"] else COMMON_CONFIG
        config = merge_dicts(defaults, config, allow_new=True)
        self.config = config
        if t["before_init"]:
            t["before_init"](self, observation_space, action_space, config)
        dist_class, num_outputs = get_action_dist(action_space, config["model"])
        if t["make_model"]:
            model = t["make_model"](self, observation_space, action_space, config)
        else:
            model = get_model(observation_space, action_space, num_outputs, config["model"])
        init_backend(config, model, dist_class)
        if t["before_loss_init"]:
            t["before_loss_init"](self, observation_space, action_space, config)
        if t["after_init"]:
            t["after_init"](self, observation_space, action_space, config)
        hook = plugins.get_plugin_manager().hook
        hook.on_exploration_created(exploration=self.exploration, policy=self)
        hook.on_policy_created(policy=self)

    def stats(self, train_batch: Any) -> dict[str, Any]:
        fn = self._template["stats_fn"]
        return fn(self, train_batch) if fn else {}

    def extra_learn_fetches(self) -> dict[str, Any]:
        fn = self._template["extra_learn_fetches_fn"]
        return fn(self) if fn else {}

    def postprocess_trajectory(
        self, sample_batch: Any, other_agent_batches: Any = None, episode: Any = None
    ) -> Any:
        sample_batch = self.exploration.postprocess_trajectory(self, sample_batch)
        fn = self._template["postprocess_fn"]
        return fn(self, sample_batch, other_agent_batches, episode) if fn else sample_batch
