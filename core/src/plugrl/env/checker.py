"""CheckedEnv: an env whose first reset() and step() are checked against the gymnasium API and
its declared spaces, so that a mistake is one EnvError naming the API or the space."""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Mapping
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from plugrl.errors import EnvError

_GYMNASIUM = "as gymnasium >= 0.26 does"
_RESET_FIX = f"Return (obs, info) from reset(), {_GYMNASIUM}."
_STEP_FIX = f"Return (obs, reward, terminated, truncated, info) from step(), {_GYMNASIUM}."
_OBS_FIX = "Return observations that fit observation_space, or declare the space the env returns."
_NUMERIC = "biuf"  # numpy dtype kinds a Box, MultiDiscrete or MultiBinary observation may have


class CheckedEnv(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Wraps ``env``, raising an :class:`EnvError` when its first ``reset()`` or first ``step()``
    breaks the gymnasium API or returns an observation that does not fit ``observation_space``.

    Later calls go straight to ``env``. Attributes the wrapper lacks (an env's own methods) are
    read from ``env``, as with gymnasium < 1.0 wrappers.
    """

    def __init__(self, env: gym.Env):
        _check_env(env)
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        self._reset_checked = False
        self._step_checked = False

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """``env.reset(**kwargs)`` (``seed``, ``options``), checked the first time."""
        if self._reset_checked:
            return self.env.reset(**kwargs)
        if "seed" in kwargs and not _takes_seed(self.env.reset):
            raise EnvError(
                f"{env_label(self.env)}: reset() takes no seed argument (the old gym API). Define "
                "reset(self, *, seed=None, options=None) and call super().reset(seed=seed), "
                f"{_GYMNASIUM}."
            )
        result = self.env.reset(**kwargs)
        _check_reset(self.env, result)
        self._reset_checked = True
        return result

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """``env.step(action)``, checked the first time."""
        if self._step_checked:
            return self.env.step(action)
        result = self.env.step(action)
        check_step(self.env, result)
        self._step_checked = True
        return result

    def set_wrapper_attr(self, name: str, value: Any, *, force: bool = True) -> bool:
        """Set ``name`` where it lives: here if the wrapper has it, else in ``env``."""
        if name in self.__dict__ or hasattr(type(self), name):
            setattr(self, name, value)
            return True
        return self.env.set_wrapper_attr(name, value, force=force)

    def __getattr__(self, name: str) -> Any:
        env = self.__dict__.get("env")
        if env is None or name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(env, name)


def env_label(env: Any) -> str:
    """'Env <spec id>', or 'Env <class name>' for an env made without gymnasium.make (seen
    through any wrappers)."""
    spec = getattr(env, "spec", None)
    inner = getattr(env, "unwrapped", env)
    return f"Env {getattr(spec, 'id', None) or type(inner).__name__!r}"


def _show(value: Any) -> str:
    """A short description of a value seen: its repr and type, or an array's shape and dtype."""
    if isinstance(value, np.ndarray):
        return f"an ndarray of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} values"
    text = repr(value)
    return f"{text if len(text) <= 60 else text[:57] + '...'} ({type(value).__name__})"


def _check_env(env: Any) -> None:
    seen = []
    for attr in ("observation_space", "action_space"):
        space = getattr(env, attr, None)
        if not isinstance(space, spaces.Space):
            kind = f"{type(space).__module__}.{type(space).__qualname__}"
            seen.append(f"{attr} is {'missing' if space is None else f'{space!r} ({kind})'}")
    if seen:
        raise EnvError(
            f"{env_label(env)}: observation_space and action_space must be gymnasium.spaces.Space "
            f"instances, but {' and '.join(seen)}. Set them in the env's __init__ (an env "
            "written for the old gym package must be ported to gymnasium)."
        )
    if not isinstance(env, gym.Env):
        raise EnvError(
            f"{env_label(env)} is a {type(env).__module__}.{type(env).__qualname__}, not a "
            "gymnasium.Env: subclass gymnasium.Env (or gymnasium.Wrapper)."
        )


def _takes_seed(reset: Any) -> bool:
    try:
        params = inspect.signature(reset).parameters
    except (TypeError, ValueError):  # a builtin or C method: assume it does
        return True
    return "seed" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _check_reset(env: gym.Env, result: Any) -> None:
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise EnvError(
            f"{env_label(env)}: reset() returned {_show(result)}, not (obs, info). {_RESET_FIX}"
        )
    obs, info = result
    if not isinstance(info, dict):
        raise EnvError(
            f"{env_label(env)}: reset() returned {_show(info)} as info, not a dict (it may be "
            f"empty). {_RESET_FIX}"
        )
    check_observation(env, obs, "reset")


def check_step(env: gym.Env, result: Any) -> None:
    """Raise an :class:`EnvError` unless ``result`` is a well-formed ``step()`` return."""
    is_tuple = isinstance(result, (tuple, list))
    if not is_tuple or len(result) != 5:
        old = " (obs, reward, done, info): the old gym API" if is_tuple and len(result) == 4 else ""
        raise EnvError(f"{env_label(env)}: step() returned {_show(result)}{old}. {_STEP_FIX}")
    obs, reward, terminated, truncated, info = result
    wrong = None
    if not _is_real(reward):
        wrong = f"{_show(reward)} as reward, not a real number"
    elif not _is_bool(terminated):
        wrong = f"{_show(terminated)} as terminated, not a bool"
    elif not _is_bool(truncated):
        wrong = f"{_show(truncated)} as truncated, not a bool"
    elif not isinstance(info, dict):
        wrong = f"{_show(info)} as info, not a dict (it may be empty)"
    if wrong:
        raise EnvError(f"{env_label(env)}: step() returned {wrong}. {_STEP_FIX}")
    check_observation(env, obs, "step")


def _is_real(x: Any) -> bool:
    if isinstance(x, np.ndarray):
        return x.shape == () and x.dtype.kind in _NUMERIC
    return isinstance(x, (numbers.Real, np.bool_))


def _is_bool(x: Any) -> bool:
    if isinstance(x, (bool, np.bool_)):
        return True
    if isinstance(x, np.ndarray):
        return x.shape == () and x.dtype.kind == "b"
    return isinstance(x, numbers.Integral) and x in (0, 1)


def check_observation(env: gym.Env, obs: Any, call: str) -> None:
    """Raise an :class:`EnvError` naming the space unless ``obs`` fits ``env``'s
    observation space (``call`` says which call returned it, e.g. "step")."""
    problem = _obs_problem(env.observation_space, obs, "")
    if problem:
        raise EnvError(f"{env_label(env)}: {call}()'s observation{problem}. {_OBS_FIX}")


def observation_problem(space: spaces.Space, obs: Any) -> str | None:
    """What is wrong with ``obs`` for ``space``, as the rest of a sentence starting "The
    observation" (e.g. " has shape (3,), but observation_space Box(...) has shape (4,)"); None
    when it fits. A Box's values may lie outside its bounds."""
    return _obs_problem(space, obs, "")


def _obs_problem(space: spaces.Space, obs: Any, path: str) -> str | None:
    """What is wrong with ``obs`` (at ``path`` inside the observation) for ``space``, as the
    rest of a sentence starting "observation<path>"; None when it fits."""
    where = f"observation_space{path} {space}"
    if isinstance(space, spaces.Discrete):
        integer = isinstance(obs, numbers.Integral) or (
            isinstance(obs, np.ndarray) and obs.shape == () and obs.dtype.kind in "iu"
        )
        if not integer:
            return f"{path} is {_show(obs)}, but {where} holds integers"
        low, high = int(space.start), int(space.start + space.n - 1)
        if not low <= int(obs) <= high:
            return f"{path} is {int(obs)}, outside {where} ({low} to {high})"
        return None
    if isinstance(space, (spaces.Box, spaces.MultiDiscrete, spaces.MultiBinary)):
        return _array_problem(space, obs, path, where)
    if isinstance(space, spaces.Tuple):
        if not isinstance(obs, (tuple, list)):
            return f"{path} is {_show(obs)}, but {where} is a Tuple of {len(space)} spaces"
        if len(obs) != len(space):
            return f"{path} has {len(obs)} elements, but {where} has {len(space)} spaces"
        items = enumerate(space.spaces)
        return next(filter(None, (_obs_problem(s, obs[i], f"{path}[{i}]") for i, s in items)), None)
    if isinstance(space, spaces.Dict):
        keys = ", ".join(repr(k) for k in space.spaces)
        dict_space = f"observation_space{path} (a Dict with keys {keys})"
        if not isinstance(obs, Mapping):
            return f"{path} is {_show(obs)}, not a dict as {dict_space} needs"
        missing = [repr(k) for k in space.spaces if k not in obs]
        if missing:
            return f"{path} lacks key(s) {', '.join(missing)} of {dict_space}"
        extra = [repr(k) for k in obs if k not in space.spaces]
        if extra:
            return f"{path} has key(s) {', '.join(extra)} that {dict_space} does not declare"
        items = space.spaces.items()
        return next(
            filter(None, (_obs_problem(s, obs[k], f"{path}[{k!r}]") for k, s in items)), None
        )
    try:
        fits = bool(space.contains(obs))
    except Exception:  # a custom space's contains() may fail on a foreign value
        fits = False
    return None if fits else f"{path} is {_show(obs)}, which {where} does not contain"


def _array_problem(space: spaces.Space, obs: Any, path: str, where: str) -> str | None:
    """Kind and shape only for a Box (values outside its bounds are fine); values as well for
    MultiDiscrete and MultiBinary, whose values are indices."""
    try:
        array = np.asarray(obs)
    except (ValueError, TypeError):  # e.g. a ragged list
        array = np.asarray(None)
    if array.dtype.kind not in _NUMERIC:
        return f"{path} is {_show(obs)}, but {where} holds numbers"
    if array.shape != space.shape:
        return f"{path} has shape {array.shape}, but {where} has shape {space.shape}"
    if isinstance(space, spaces.MultiDiscrete):
        low, high = space.start, space.start + space.nvec - 1
        if not (np.all(array >= low) and np.all(array <= high)):
            return f"{path} is {array.tolist()}, outside {where}"
    if isinstance(space, spaces.MultiBinary) and not np.all((array == 0) | (array == 1)):
        return f"{path} is {array.tolist()}, but {where} holds only 0 and 1"
    return None
