"""Envs with tasks a curriculum sets (levels, difficulties): see the ``env_task_fn`` config key."""

from __future__ import annotations

from typing import Any

import gymnasium as gym


class TaskSettableEnv(gym.Env):
    """A gymnasium env whose task can be read and changed (after each ``train()``, also in
    the middle of an episode: apply a new task at the next ``reset`` if it must wait).

    Subclasses implement :meth:`get_task` and :meth:`set_task` (and :meth:`sample_tasks` when
    tasks are drawn at random). With ``env_task_fn`` in the config, the trainer calls
    ``env_task_fn(train_results, env, env_context)`` after every ``train()`` for each sub-env
    of every rollout worker and sets the task it returns when it differs from the current one.
    """

    def sample_tasks(self, n_tasks: int) -> list[Any]:
        """``n_tasks`` tasks drawn from the env's task distribution."""
        raise NotImplementedError(f"{type(self).__name__} does not implement sample_tasks()")

    def set_task(self, task: Any) -> None:
        """Make ``task`` the task of the next episodes."""
        raise NotImplementedError(f"{type(self).__name__} does not implement set_task()")

    def get_task(self) -> Any:
        """The current task."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_task()")
