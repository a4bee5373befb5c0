"""``plugrl config ALGORITHM``: an algorithm's config keys, each with its default and the
comment it is declared with (in its plugin's ``config.py`` and the kernel's
:data:`~plugrl.config.COMMON_CONFIG`), printed as YAML for the ``config:`` of a
``plugrl train -f`` file."""

from __future__ import annotations

import ast
import inspect
import json
import sys
import textwrap
from types import ModuleType
from typing import Any

import click

from plugrl.config import COMMON_CONFIG
from plugrl.jsonable import to_jsonable


@click.command("config")
@click.argument("algorithm")
@click.option("--json", "as_json", is_flag=True, help="Print the defaults as JSON, no comments.")
def config_command(algorithm: str, as_json: bool) -> None:
    """Print ALGORITHM's config keys with their defaults and what each does.

    ALGORITHM is a registered name such as PPO, or a Trainer subclass as 'module:Class'.
    """
    from plugrl.cli.train import resolve_trainer_class

    trainer_cls = resolve_trainer_class(algorithm)
    defaults = trainer_cls._template["default_config"] or COMMON_CONFIG
    if as_json:
        click.echo(json.dumps(to_jsonable(defaults), indent=2))
        return
    click.echo(
        f"# {trainer_cls.__name__}'s config: every key with its default. Set keys under "
        "`config:` in a YAML file\n# (plugrl train -f FILE) or as JSON (--config "
        "'{\"lr\": 0.001}'); unset keys keep these values.\n"
    )
    for line in yaml_lines(to_jsonable(defaults), key_comments(trainer_cls, defaults)):
        click.echo(line)


def yaml_lines(config: dict[str, Any], comments: dict[str, str], indent: str = "") -> list[str]:
    """``config`` as YAML, each key under its comment; a dict whose keys have comments (such
    as ``model``) is written out key by key."""
    import yaml

    lines: list[str] = []
    for key, value in config.items():
        if key in comments:
            prefix = f"{indent}# "
            lines += textwrap.wrap(
                comments[key], 99, initial_indent=prefix, subsequent_indent=prefix
            )
        if isinstance(value, dict) and any(k in comments for k in value):
            lines += [f"{indent}{key}:", *yaml_lines(value, comments, indent + "  ")]
        else:
            dumped = yaml.safe_dump(value, default_flow_style=True, width=2**16, sort_keys=False)
            dumped = dumped.removesuffix("...\n").strip()  # a scalar document's end marker
            lines.append(f"{indent}{key}: {dumped}")
    return lines


def key_comments(trainer_cls: type, defaults: dict[str, Any]) -> dict[str, str]:
    """``{key: comment}`` from the source of the dicts a trainer's defaults are built from:
    the dict bound to ``defaults`` itself first, then the other dicts of the algorithm's
    modules (the classes it derives from, and their packages' ``config``), then the kernel's."""
    import plugrl.config

    modules: list[ModuleType] = []
    for cls in trainer_cls.__mro__:
        module = sys.modules.get(cls.__module__)
        if module is None or module.__name__.startswith("plugrl."):
            continue
        package = sys.modules.get(f"{module.__package__}.config")
        modules += [m for m in (package, module) if m is not None and m not in modules]
    modules.append(plugrl.config)
    found: list[tuple[bool, dict[str, str]]] = []
    for module in modules:
        for name, comments in _dict_comments(module).items():
            found.append((getattr(module, name, None) is defaults, comments))
    merged: dict[str, str] = {}
    for _, comments in sorted(found, key=lambda item: not item[0]):  # stable: own dict first
        for key, comment in comments.items():
            merged.setdefault(key, comment)
    return merged


def _dict_comments(module: ModuleType) -> dict[str, dict[str, str]]:
    """For each module-level ``NAME = {...}`` or ``NAME = f({...})`` (annotated or not), the
    whole-line comments right above each of its top-level string keys, up to a section
    header (``# === x ===``, ``# --- x ---``)."""
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    found: dict[str, dict[str, str]] = {}
    for node in ast.parse(source).body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if not isinstance(target, ast.Name) or node.value is None:
            continue
        value = node.value
        dicts = [value] if isinstance(value, ast.Dict) else []
        if isinstance(value, ast.Call):
            dicts = [arg for arg in value.args if isinstance(arg, ast.Dict)]
        comments: dict[str, str] = {}
        for literal in dicts:
            for key in literal.keys:
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    text = _comment_above(lines, key.lineno - 1)
                    if text:
                        comments[key.value] = text
        found[target.id] = comments
    return found


def _comment_above(lines: list[str], index: int) -> str:
    above: list[str] = []
    while index > 0 and lines[index - 1].strip().startswith("#"):
        index -= 1
        text = lines[index].strip().lstrip("#").strip()
        if text.startswith(("===", "---")):
            break
        above.insert(0, text)
    return " ".join(above)
