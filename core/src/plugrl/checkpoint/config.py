"""The config of a checkpointed run, made safe to build a trainer from.

A config the user gives (Python, ``--config``, a YAML file they name) may name code: an env
class path, an exploration class path, callbacks. A config read from a checkpoint or from the
``params.json`` beside it is data someone else may have written, so it may name only things
already registered in this process (plugins, ``register_env``, ``ModelCatalog``) and gymnasium
ids. Every other value of a key that names code is dropped; the user names it again on
purpose, or gets an error saying how.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import gymnasium as gym

from plugrl.config import COMMON_CONFIG, merge_dicts
from plugrl.errors import CheckpointError
from plugrl.registry import registry

# Config keys whose values name code (or, for input and output, data and folders of another
# machine), with the registry a checkpoint's value must be found in (None: never taken from
# a checkpoint, unless it is the default). The same keys inside ``evaluation_config`` too.
# A new key that names code belongs here.
CODE_KEYS: dict[tuple[str, ...], str | None] = {
    ("env",): "envs",
    ("exploration_config", "type"): "explorations",
    ("model", "custom_model"): "models",
    ("model", "custom_action_dist"): "models",
    ("model", "custom_preprocessor"): "models",
    ("callbacks",): None,
    ("custom_eval_function",): None,
    ("env_task_fn",): None,
    ("before_learn_on_batch",): None,
    ("input",): None,
    ("output",): None,
    # policy classes and the mapping function (the top-level section is handled whole by
    # _drop_multiagent; these catch it inside evaluation_config)
    ("multiagent", "policies"): None,
    ("multiagent", "policy_mapping_fn"): None,
}
_MULTIAGENT_KEYS = (("multiagent", "policies"), ("multiagent", "policy_mapping_fn"))
# Dropping these changes what the trainer is, so the user must name them; the others only
# change what runs alongside (callbacks, evaluation) and are dropped with a warning.
ESSENTIAL_KEYS = frozenset([*(key for key, kind in CODE_KEYS.items() if kind), *_MULTIAGENT_KEYS])


def saved_config(checkpoint: str | Path, state: dict[str, Any]) -> dict[str, Any]:
    """The run's config as saved: the checkpoint's own, else ``params.json`` beside its folder
    (``{}`` when neither exists). Not yet safe: see :func:`trusted_config`."""
    config = state.get("config")
    if isinstance(config, dict):
        return config
    folder = Path(checkpoint).expanduser()
    params = (folder.parent if folder.is_file() else folder).parent / "params.json"
    if not params.is_file():
        return {}
    try:
        config = json.loads(params.read_text())
    except (OSError, ValueError, RecursionError):
        raise CheckpointError(f"{str(params)!r} is not a JSON object.") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{str(params)!r} is not a JSON object.")
    return config


def trusted_config(saved: dict[str, Any], overrides: dict[str, Any], source: str) -> dict[str, Any]:
    """``saved`` with every code-naming value that is not registered dropped, then the user's
    own ``overrides`` merged on top (they may name code: the user typed them).

    An essential value dropped and not given again (the env, the exploration type, a custom
    model) is a :class:`CheckpointError` saying how to pass it; other dropped values are warned
    about.
    """
    config = json.loads(json.dumps(saved))  # a plain copy: JSON types only
    _drop_multiagent(config, overrides, source)
    dropped = drop_code(config, ())
    eval_config = config.get("evaluation_config")
    if isinstance(eval_config, dict):
        dropped += drop_code(eval_config, ("evaluation_config",))
    config = merge_dicts(config, overrides, allow_new=True)
    for path, code_key, value in dropped:
        if _lookup(overrides, path) is not None:
            continue
        key = ".".join(path)
        if code_key in ESSENTIAL_KEYS:
            raise CheckpointError(
                f"The config of checkpoint {source!r} sets {key} to {value!r}, which is not "
                "registered in this process. plugrl never imports code named in a checkpoint: "
                f"if you trust it, name it yourself ({_how_to_pass(path, value)})."
            )
        warnings.warn(
            f"The config of checkpoint {source!r} sets {key} to {value!r}; code named in a "
            f"checkpoint is not loaded, so it is left out ({_how_to_pass(path, value)} to "
            "use it).",
            UserWarning,
            stacklevel=2,
        )
    return config


def _drop_multiagent(config: dict[str, Any], overrides: dict[str, Any], source: str) -> None:
    """Remove the saved ``multiagent`` section (policy classes and the mapping function are
    code); a multi-agent checkpoint needs the user's own, an error saying so otherwise."""
    saved = config.pop("multiagent", None)
    if not isinstance(saved, dict) or "multiagent" in overrides:
        return
    if saved.get("policies") or saved.get("policy_mapping_fn"):
        policies = saved.get("policies")
        ids = sorted(policies) if isinstance(policies, dict | list) else policies
        raise CheckpointError(
            f"Checkpoint {source!r} was trained with multi-agent policies {ids}. plugrl never "
            "imports code named in a checkpoint (policy classes, a policy_mapping_fn): pass the "
            "same config['multiagent'] yourself (policies, policy_mapping_fn, "
            "policies_to_train)."
        )


def drop_code(
    config: dict[str, Any], prefix: tuple[str, ...] = ()
) -> list[tuple[tuple, tuple, Any]]:
    """Remove unregistered code-naming values from ``config`` (a config as JSON, someone
    else's) in place; returns what went as ``(path in the config, key of CODE_KEYS, value)``.
    Also used on the config a policy server sends its clients."""
    dropped = []
    for path, kind in CODE_KEYS.items():
        *parents, leaf = path
        node: Any = config
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or node.get(leaf) is None:
            continue
        value = node[leaf]
        if kind is None and value == _default(path):
            continue
        if kind is None or not _registered(kind, value):
            del node[leaf]
            dropped.append(((*prefix, *path), path, value))
    return dropped


def _default(path: tuple[str, ...]) -> Any:
    """The common default of a key of CODE_KEYS (e.g. ``input: "sampler"``, which names no
    code and is kept)."""
    return _lookup(COMMON_CONFIG, path)


def _registered(kind: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    return value in registry(kind) or (kind == "envs" and value in gym.registry)


def _lookup(config: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = config
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _how_to_pass(path: tuple[str, ...], value: Any) -> str:
    if path == ("env",):
        return f"--env {value}, or env= in Python"
    nested: Any = value
    for part in reversed(path):
        nested = {part: nested}
    return f"--config '{json.dumps(nested)}', or config= in Python"
