"""The table of algorithms x action spaces x frameworks, from what this repository's plugins
register: each ``plugins/*/src/*/plugin.py`` is loaded on its own and its
``register_algorithms`` and ``register_policies`` hooks are called with a recorder. A trainer
finds the policies of the algorithms it derives from (A2C uses A3C's), as
:func:`plugrl.registry.get_policy_class` does. Nothing imports torch or TensorFlow: plugins
name their policies by import path.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

# Every backend's action distributions handle these (plugrl.models.action_dist.select_action_dist).
BACKEND_ACTION_SPACES = "Discrete, MultiDiscrete, Box"
# Algorithms that accept fewer: DQN's and SimpleQ's Q-networks refuse any other space
# (plugrl_dqn.q_model.check_discrete).
ACTION_SPACES = {"DQN": "Discrete", "SimpleQ": "Discrete"}


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"_docs_{path.parent.name}_plugin", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _registered(root: Path) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Algorithm -> trainer path, and (algorithm, framework) -> policy path."""
    algorithms: dict[str, str] = {}
    policies: dict[tuple[str, str], str] = {}
    for path in sorted(root.glob("plugins/*/src/*/plugin.py")):
        plugin = _load(path)
        if hasattr(plugin, "register_algorithms"):
            plugin.register_algorithms(lambda name, ref: algorithms.__setitem__(name, ref))
        if hasattr(plugin, "register_policies"):
            plugin.register_policies(
                lambda name, framework, ref: policies.__setitem__((name, framework), ref)
            )
    return algorithms, policies


def _lineage(ref: str) -> list[str]:
    """The names of the trainer at ``ref`` ("module:Name") and those it derives from."""
    from plugrl.trainer.trainer import lineage_of

    module, name = ref.split(":")
    return lineage_of(getattr(importlib.import_module(module), name))


def render(root: Path) -> str:
    """The Markdown table, one row per registered algorithm."""
    algorithms, policies = _registered(root)
    frameworks = list(dict.fromkeys(framework for _, framework in policies))
    rows = [
        f"| algorithm | trainer | action spaces | {' | '.join(frameworks)} |",
        "| --- | --- | --- |" + " --- |" * len(frameworks),
    ]
    for name, ref in sorted(algorithms.items()):
        cells = []
        lineage = _lineage(ref)
        for framework in frameworks:
            found = next((a for a in lineage if (a, framework) in policies), None)
            if found is None:
                cells.append("no")
                continue
            policy = policies[found, framework].split(":")[1]
            cells.append(f"`{policy}`" + (f" ({found}'s)" if found != name else ""))
        spaces = ACTION_SPACES.get(name, BACKEND_ACTION_SPACES)
        trainer = ref.replace(":", ".")
        rows.append(f"| {name} | `{trainer}` | {spaces} | {' | '.join(cells)} |")
    return "\n".join(rows) + "\n"
