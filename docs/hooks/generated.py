"""MkDocs hook: fills the pages' generated parts, so they follow the code.

A page asks for one with a marker line, ``<!-- generated: NAME -->``: ``config-reference``
(every config key, its default and its comment) or ``algorithm-table`` (what the plugins
register). An unknown name, or a config key without a comment, stops the build.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import algorithm_table
import config_reference
from mkdocs.exceptions import PluginError

MARKER = re.compile(r"^<!-- generated: (?P<name>[\w-]+) -->$", re.MULTILINE)
GENERATORS = {
    "config-reference": config_reference.render,
    "algorithm-table": algorithm_table.render,
}


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    root = Path(config.config_file_path).parent

    def fill(match: re.Match) -> str:
        name = match.group("name")
        if name not in GENERATORS:
            raise PluginError(
                f"{page.file.src_path}: unknown generated part {name!r}; "
                f"known: {', '.join(GENERATORS)}."
            )
        try:
            return GENERATORS[name](root)
        except ValueError as error:  # a config key without a comment
            raise PluginError(f"{page.file.src_path}: {error}") from error

    return MARKER.sub(fill, markdown)
