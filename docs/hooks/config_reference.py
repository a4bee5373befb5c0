"""The configuration reference: tables of key, default and description read from the
commented defaults (``COMMON_CONFIG``, ``MODEL_DEFAULTS`` and each algorithm's
``*DEFAULT_CONFIG``) with ``ast`` and ``tokenize``, so nothing is imported.

A key's description is the comment block right above it. A key without one takes the
description of the common key it overrides, or belongs to the group of the commented key
before it when that key's comment names it or its name contains that key's (DQN's ``v_min``
under ``num_atoms``, ``prioritized_replay_alpha`` under ``prioritized_replay``); any other key
without a comment is an error. Comments of the form ``# === Section ===`` or
``# --- section ---`` start a section.
"""

from __future__ import annotations

import ast
import html
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]|]")  # comments are plain text, not Markdown
SECTION = re.compile(r"^#\s*(?:===|---)\s*(?P<title>.+?)\s*(?:===|---)\s*$")


@dataclass
class Entry:
    """One key of a config dict literal."""

    key: str
    default: str  # the value's source text
    comment: str  # the comment block above it, "" if none
    section: str  # the section it is in, "" if none


@dataclass
class Config:
    """A ``*DEFAULT_CONFIG`` (or ``COMMON_CONFIG``, ``MODEL_DEFAULTS``) of one module."""

    module: str  # dotted module name
    name: str  # the variable
    entries: list[Entry]


def read_configs(path: Path, module: str) -> list[Config]:
    """Every module-level ``NAME = {...}`` (or ``with_common_config({...})``) whose name ends
    with ``DEFAULT_CONFIG`` or ``_CONFIG`` / ``_DEFAULTS`` in ``path``, in source order."""
    source = path.read_text()
    comments = _comments(source)
    lines = source.splitlines()
    tables: dict[str, list[Entry]] = {}
    configs = []
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None):
            continue
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        if not (isinstance(target, ast.Name) and target.id.endswith(("_CONFIG", "_DEFAULTS"))):
            continue
        entries = _entries(node.value, source, comments, lines, tables)
        if entries is None:
            continue
        tables[target.id] = entries
        configs.append(Config(module, target.id, entries))
    return configs


def _comments(source: str) -> dict[int, str]:
    """Line number -> text of every comment that stands alone on its line."""
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and not token.line[: token.start[1]].strip():
            found[token.start[0]] = token.string
    return found


def _entries(
    value: ast.expr,
    source: str,
    comments: dict[int, str],
    lines: list[str],
    tables: dict[str, list[Entry]],
) -> list[Entry] | None:
    if isinstance(value, ast.Call) and len(value.args) == 1:  # with_common_config({...})
        value = value.args[0]
    if isinstance(value, ast.DictComp):  # {key: OTHER[key] for key in ("a", "b")}
        return _picked(value, tables)
    if not isinstance(value, ast.Dict):
        return None
    entries: list[Entry] = []
    section = ""
    previous_end = value.lineno
    for key, item in zip(value.keys, value.values, strict=True):
        if key is None:  # **OTHER: its entries first
            if isinstance(item, ast.Name) and item.id in tables:
                entries.extend(tables[item.id])
            previous_end = item.end_lineno or item.lineno
            continue
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            continue
        block: list[str] = []
        for line in range(key.lineno - 1, previous_end, -1):
            if line not in comments:
                break
            match = SECTION.match(comments[line])
            if match:
                section = match.group("title")
                break
            block.insert(0, comments[line].lstrip("#").strip())
        default = _one_line(ast.get_source_segment(source, item) or "")
        entries.append(Entry(key.value, default, " ".join(block), section))
        previous_end = item.end_lineno or item.lineno
    return _overrides_last(entries)


def _one_line(code: str) -> str:
    """A value's source on one line, without the spaces and trailing comma of its layout."""
    code = " ".join(code.split())
    return re.sub(r",?\s*([\]})])", r"\1", re.sub(r"([\[{(])\s+", r"\1", code))


def _overrides_last(entries: list[Entry]) -> list[Entry]:
    """``{**BASE, "k": v}``: a key set again replaces the earlier entry in place."""
    by_key: dict[str, Entry] = {}
    for entry in entries:
        if entry.key in by_key and not entry.comment:
            entry.comment = by_key[entry.key].comment
        by_key[entry.key] = entry
    return list(by_key.values())


def _picked(comp: ast.DictComp, tables: dict[str, list[Entry]]) -> list[Entry] | None:
    value, generator = comp.value, comp.generators[0]
    if not (
        isinstance(value, ast.Subscript)
        and isinstance(value.value, ast.Name)
        and value.value.id in tables
        and isinstance(generator.iter, ast.Tuple)
    ):
        return None
    keys = [elt.value for elt in generator.iter.elts if isinstance(elt, ast.Constant)]
    source = {entry.key: entry for entry in tables[value.value.id]}
    return [source[key] for key in keys if key in source]


def describe(configs: list[Config], common: dict[str, Entry]) -> dict[str, dict[str, str]]:
    """Config name -> key -> description, filling in keys without a comment of their own, and
    raising ``ValueError`` for a key left without any."""
    descriptions: dict[str, dict[str, str]] = {}
    for config in configs:
        found: dict[str, str] = {}
        head: Entry | None = None
        for entry in config.entries:
            if entry.comment:
                found[entry.key], head = entry.comment, entry
            elif entry.key in common and common[entry.key] is not entry:
                found[entry.key] = common[entry.key].comment
            elif head and (_names(entry.key, head.comment) or head.key in entry.key):
                found[entry.key] = f"See `{head.key}`."
            else:
                raise ValueError(
                    f"{config.module}.{config.name}: key {entry.key!r} has no comment above it."
                )
        descriptions[config.name] = found
    return descriptions


def table(entries: list[Entry], descriptions: dict[str, str]) -> str:
    """A Markdown table of ``entries``, with a heading row per section."""
    rows = ["| key | default | description |", "| --- | --- | --- |"]
    section = None
    for entry in entries:
        if entry.section and entry.section != section:
            section = entry.section
            rows.append(f"| **{section}** | | |")
        default = entry.default.replace("|", "\\|")
        text = MARKDOWN_SPECIAL.sub(r"\\\g<0>", html.escape(descriptions[entry.key], quote=False))
        rows.append(f"| `{entry.key}` | `{default}` | {text} |")
    return "\n".join(rows)


def render(root: Path) -> str:
    """The whole reference: the common keys, the model keys, then each algorithm's keys."""
    kernel = read_configs(root / "core/src/plugrl/config.py", "plugrl.config")
    by_name = {config.name: config for config in kernel}
    common = {entry.key: entry for entry in by_name["COMMON_CONFIG"].entries}
    model = by_name["MODEL_DEFAULTS"]
    parts = [
        "## Common keys",
        "Every trainer accepts these (`plugrl.config.COMMON_CONFIG`).",
        table(
            by_name["COMMON_CONFIG"].entries,
            describe([by_name["COMMON_CONFIG"]], {})["COMMON_CONFIG"],
        ),
        "## Model keys",
        'The keys of `config["model"]` (`plugrl.config.MODEL_DEFAULTS`).',
        table(model.entries, describe([model], {})["MODEL_DEFAULTS"]),
    ]
    for path in sorted(root.glob("plugins/*/src/*/config.py")):
        module = f"{path.parent.name}.config"
        configs = [c for c in read_configs(path, module) if c.name.endswith("DEFAULT_CONFIG")]
        descriptions = describe(configs, common)
        trainers = _trainers(path.parent)
        for config in configs:
            own = [e for e in config.entries if _own(e, common)]
            parts += [
                f"## {' '.join(trainers.get(config.name, [config.name]))}",
                f"`{module}.{config.name}`: the common keys, with these added or changed.",
                table(own, descriptions[config.name]),
            ]
    return "\n\n".join(parts) + "\n"


def _trainers(package: Path) -> dict[str, list[str]]:
    """Config variable -> the trainers built on it: ``build_trainer(name=..., default_config=X)``
    and ``Trainer.with_updates(name=..., default_config=X)`` calls in ``package``."""
    found: dict[str, list[str]] = {}
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            kwargs = {k.arg: k.value for k in node.keywords}
            name, config = kwargs.get("name"), kwargs.get("default_config")
            if isinstance(name, ast.Constant) and isinstance(config, ast.Name):
                found.setdefault(config.id, []).append(str(name.value))
    return found


def _own(entry: Entry, common: dict[str, Entry]) -> bool:
    """An algorithm's own key, or a common key whose default it changes."""
    return entry.key not in common or entry.default != common[entry.key].default


def _names(key: str, comment: str) -> bool:
    return re.search(rf"\b{re.escape(key)}\b", comment) is not None
