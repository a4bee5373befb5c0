"""Turn an ``env`` config value into a creator ``fn(env_context) -> gymnasium.Env``.

Accepted: a name registered with ``register_env`` or a plugin, a gymnasium id, a dotted path
``"pkg.module:Class"``/``"pkg.module.Class"``, an env class, or a callable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym

from plugrl.env.atari import is_atari, make_atari, register_optional
from plugrl.env.spaces import config_spaces
from plugrl.errors import ConfigError, EnvError, did_you_mean
from plugrl.plugins import import_object
from plugrl.registry import registry


class EnvContext(dict):
    """The ``env_config`` dict, plus which worker and which vector slot the env is for."""

    def __init__(
        self, env_config: dict, worker_index: int = 0, vector_index: int = 0, num_workers: int = 0
    ):
        super().__init__(env_config)
        self.worker_index = worker_index
        self.vector_index = vector_index
        self.num_workers = num_workers

    def copy_with_overrides(self, **kwargs: Any) -> EnvContext:
        fields = {
            "worker_index": self.worker_index,
            "vector_index": self.vector_index,
            "num_workers": self.num_workers,
            **kwargs,
        }
        return EnvContext(dict(self), **fields)


EnvCreator = Callable[[EnvContext], gym.Env]


def make_env_creator(env: Any, preprocessor_pref: str | None = "deepmind") -> EnvCreator:
    """The creator for ``env``, or an :class:`EnvError` saying what was wrong.

    ``preprocessor_pref="deepmind"`` wraps Atari ids in the standard pipeline
    (:mod:`plugrl.env.atari`); None makes them as gymnasium does.
    """
    if env is None:
        raise EnvError(
            "No env given: set config['env'] (or --env), e.g. 'CartPole-v1'. A trainer without "
            "an env (fed by a policy server) gives observation_space and action_space instead."
        )
    if isinstance(env, type):
        return lambda ctx: env(ctx)
    if callable(env):
        return env
    if not isinstance(env, str):
        raise EnvError(f"config['env'] must be a name, class or callable, got {env!r}.")
    if env in registry("envs"):
        creator = registry("envs").get(env)
        return import_object(creator) if isinstance(creator, str) else creator
    if env not in gym.registry:
        register_optional(env)
    if env in gym.registry:
        if preprocessor_pref == "deepmind" and is_atari(env):
            return _gymnasium_creator(env, make_atari)
        return _gymnasium_creator(env)
    if ":" in env or ("." in env and "-v" not in env):
        try:
            return make_env_creator(import_object(env), preprocessor_pref)
        except (ImportError, AttributeError) as exc:
            raise EnvError(
                f"Env {env!r} looks like an import path but cannot be imported: {exc}."
            ) from None
    known = list(registry("envs").names()) + list(gym.registry)
    raise EnvError(
        f"Unknown env {env!r}: not registered with register_env and not a gymnasium id."
        f"{did_you_mean(env, known)} Register it with plugrl.register_env(name, creator), or "
        "pass a class, a callable or a 'module:Class' path."
    )


def env_creator_of(config: Mapping[str, Any]) -> EnvCreator | None:
    """The creator of ``config["env"]``; None when the config has no env and gives the
    ``observation_space`` and ``action_space`` instead (experiences then come from its
    ``input``, e.g. a policy server)."""
    if config["env"] is None and config_spaces(config)[0] is not None:
        if config["input"] == "sampler":
            raise ConfigError(
                "The config has no env (env: None), so its workers have nothing to sample: give "
                "an env, or an input that brings experiences (a PolicyServerInput, offline "
                "files)."
            )
        return None
    config_spaces(config)  # spaces given beside an env must still be spaces
    return make_env_creator(config["env"], config.get("preprocessor_pref", "deepmind"))


def _gymnasium_creator(env_id: str, make: Callable[..., gym.Env] | None = None) -> EnvCreator:
    def create(ctx: EnvContext) -> gym.Env:
        try:
            if make is not None:
                return make(env_id, dict(ctx))
            return gym.make(env_id, **dict(ctx))
        except TypeError as exc:
            raise EnvError(
                f"gymnasium.make({env_id!r}, **env_config) failed: {exc}. "
                "Check config['env_config']."
            ) from None

    create.__name__ = f"make_{env_id}"
    return create


def env_name(env: Any) -> str:
    """A short name for results folders and logs ("external" when there is no env)."""
    if env is None:
        return "external"
    if isinstance(env, str):
        return env.rsplit(":", 1)[-1].rsplit(".", 1)[-1] if "-v" not in env else env
    return getattr(env, "__name__", type(env).__name__)
