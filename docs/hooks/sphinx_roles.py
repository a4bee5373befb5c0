"""Griffe extension: Sphinx roles in docstrings (``:class:`~plugrl.Trainer```) read as code
spans in the API reference (`Trainer`), the way the source means them."""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|attr|data|mod|exc|obj):`(?P<short>~)?(?P<target>[^`]+)`"
)


class SphinxRoles(griffe.Extension):
    """Rewrites each docstring's roles once its object exists."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(_code, obj.docstring.value)


def _code(match: re.Match) -> str:
    target = match.group("target")
    return f"`{target.rsplit('.', 1)[-1] if match.group('short') else target}`"
