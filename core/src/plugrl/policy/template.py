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
from typing import Any

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
