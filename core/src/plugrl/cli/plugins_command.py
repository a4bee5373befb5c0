"""``plugrl plugins``: every loaded plugin, what it registers, and the plugins that failed."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

from plugrl import __version__
from plugrl.plugins import get_host
from plugrl.registry import KINDS, registry


def plugins_report() -> dict[str, Any]:
    """``{"plugins": [...], "failures": [...]}`` for the process's plugin host."""
    host = get_host()
    provided: dict[str, dict[str, list[str]]] = {}
    for kind in KINDS:
        reg = registry(kind)
        for name in reg.names():
            source = reg.source(name)
            if source is not None:  # a policy is registered as (algorithm, framework)
                label = "/".join(name) if isinstance(name, tuple) else name
                provided.setdefault(source, {}).setdefault(kind, []).append(label)
    loaded = []
    for info in host.infos.values():
        entry = asdict(info)
        if info.builtin:  # the kernel's own plugins ship with, and are versioned as, plugrl
            entry.update(
                distribution=entry["distribution"] or "plugrl",
                version=entry["version"] or __version__,
            )
        loaded.append({**entry, "registers": provided.get(info.name, {})})
    failures = [asdict(failure) for failure in host.failures]
    return {"plugins": loaded, "failures": failures}


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins(as_json: bool) -> int:
    """List installed plugins, their versions and hooks, and what each registers."""
    report = plugins_report()
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return 0
    rows = [
        (
            p["name"],
            f"{p['distribution']} (built-in)" if p["builtin"] else (p["distribution"] or "-"),
            p["version"] or "-",
            ", ".join(p["hooks"]),
        )
        for p in report["plugins"]
    ]
    headers = ("PLUGIN", "DISTRIBUTION", "VERSION", "HOOKS")
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(3)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, [*widths, 0], strict=True)).rstrip())
    for row, plugin in zip(rows, report["plugins"], strict=True):
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, [*widths, 0], strict=True)).rstrip())
        for kind, names in plugin["registers"].items():
            click.echo(f"    {kind}: {', '.join(names)}")
    if report["failures"]:
        click.echo("\nFailed to load:")
        for f in report["failures"]:
            dist = f" ({f['distribution']})" if f["distribution"] else ""
            click.echo(f"  {f['name']}{dist} = {f['value']}: {f['error']}")
    return 0
