"""The template machinery shared by ``build_trainer`` and the backends' ``build_*_policy``.

A template class keeps its customisable functions in ``_template`` (name -> function or None).
``with_updates(**overrides)`` returns a real subclass whose ``_template`` is the parent's
updated with the overrides; unknown override names are refused, ``name`` sets ``__name__``,
and ``mixins`` (RLlib style) are placed before the parent in the MRO: their methods win and
can call ``super()``; their ``__init__`` runs only if a template hook calls it.
"""

from __future__ import annotations

import sys
from typing import Any

from plugrl.errors import ConfigError, did_you_mean

TEMPLATE_BUILDER = True
"""Modules that build template classes for their callers set this, so a built class is named
after the caller's module (where pickling finds it), not theirs."""


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


def _caller_module() -> str:
    """The module of the code that asked for the class, past every template builder."""
    frame = sys._getframe(1)
    while frame is not None:
        if not frame.f_globals.get("TEMPLATE_BUILDER"):
            return frame.f_globals.get("__name__", __name__)
        frame = frame.f_back
    return __name__
