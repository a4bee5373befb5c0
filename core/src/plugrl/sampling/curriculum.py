"""Curriculum: after each ``train()``, ``env_task_fn`` picks the task of every sub-env of every
rollout worker (local and remote) from the iteration's results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym

from plugrl.env.creator import EnvContext
from plugrl.env.task_settable import TaskSettableEnv
from plugrl.errors import EnvError

EnvTaskFn = Callable[[dict[str, Any], TaskSettableEnv, EnvContext], Any]


def task_settable(env: gym.Env) -> TaskSettableEnv:
    """The :class:`TaskSettableEnv` inside ``env``'s wrappers (the outermost one), or an
    :class:`EnvError` saying the env must be one."""
    inner: Any = env
    while inner is not None:
        if isinstance(inner, TaskSettableEnv):
            return inner
        inner = getattr(inner, "env", None)
    raise EnvError(
        f"env_task_fn sets tasks on TaskSettableEnv envs, but this env is a "
        f"{type(env.unwrapped).__name__}: subclass plugrl.TaskSettableEnv (get_task, set_task) "
        "or remove env_task_fn from the config."
    )


def update_task(
    env_task_fn: EnvTaskFn, result: dict[str, Any], env: gym.Env, ctx: EnvContext
) -> Any:
    """Set the task ``env_task_fn`` picks for one sub-env (only when it changes); its task now."""
    env = task_settable(env)
    task = env_task_fn(result, env, ctx)
    if not _same(task, env.get_task()):
        env.set_task(task)
    return env.get_task()


def set_env_tasks(workers: Any, env_task_fn: EnvTaskFn, result: dict[str, Any]) -> dict[str, Any]:
    """Apply ``env_task_fn`` to every sub-env of ``workers`` (a WorkerSet). Returns the result
    keys saying the tasks now set: ``env_tasks`` (``{"worker_<index>": [task of each
    sub-env]}``) and, when every sub-env has the same task, ``env_task``."""
    tasks = workers.foreach_worker_with_index(
        lambda worker, index: (
            index,
            worker.foreach_env_with_context(
                lambda env, ctx: update_task(env_task_fn, result, env, ctx)
            ),
        )
    )
    keys: dict[str, Any] = {"env_tasks": {f"worker_{index}": found for index, found in tasks}}
    every = [task for _, found in tasks for task in found]
    if every and all(_same(task, every[0]) for task in every):
        keys["env_task"] = every[0]
    return keys


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # e.g. arrays of several elements
        return False
