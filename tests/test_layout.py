"""The shape of the code: algorithms never ask which framework they run on, no plugin has an
import cycle, and the kernel imports no framework."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
ALGORITHMS = ["ppo", "dqn", "a3c", "pg", "marwil"]
PLUGINS = sorted(p.name for p in (ROOT / "plugins").iterdir() if (p / "src").is_dir())


def _package(plugin: str) -> Path:
    src = ROOT / "plugins" / plugin / "src"
    (package,) = (p for p in src.glob("plugrl_*") if (p / "__init__.py").is_file())
    return package


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_algorithms_do_not_test_the_framework(algorithm):
    pattern = re.compile(r"framework\"?\]?\s*(==|!=|in\b|not in\b)|\"tf2\"")
    hits = [
        f"{path.name}:{n}: {line.strip()}"
        for path in _package(algorithm).rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not hits, hits


def _imports(package: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (at any depth of the code)."""
    name = package.name
    modules = {
        f"{name}.{p.stem}" if p.stem != "__init__" else name: p for p in package.glob("*.py")
    }
    graph = {}
    for module, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(name):
                deps.add(node.module)
                deps |= {f"{node.module}.{a.name}" for a in node.names} & modules.keys()
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith(name)}
        graph[module] = deps - {module}
    return graph


@pytest.mark.parametrize("plugin", PLUGINS)
def test_no_plugin_has_an_import_cycle(plugin):
    graph = _imports(_package(plugin))

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            module, path = stack.pop()
            for dep in graph.get(module, ()):
                if dep == start:
                    return [*path, dep]
                if dep not in path:
                    stack.append((dep, [*path, dep]))
        return None

    cycles = [" -> ".join(c) for m in graph if (c := cycle_from(m))]
    assert not cycles, cycles


# Ray Tune adapters: imported only by plugrl.tune's functions, once the user runs Tune.
RAY_ADAPTERS = {"trainable.py", "results.py", "launch.py"}


def test_the_kernel_imports_no_framework():
    # nor the policy server's HTTP library (plugrl[serve]): imported when a server starts
    frameworks = {"torch", "tensorflow", "ray", "keras", "aiohttp"}
    hits = []
    kernel = ROOT / "core" / "src" / "plugrl"
    for path in kernel.rglob("*.py"):
        if path.parent == kernel / "tune" and path.name in RAY_ADAPTERS:
            continue
        for node in ast.parse(path.read_text()).body:  # module level: run at import time
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            hits += [f"{path.name}: {n}" for n in names if n.split(".")[0] in frameworks]
    assert not hits, hits
