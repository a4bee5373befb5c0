"""MultiAgentEnv: an env where several agents observe, act and are rewarded, keyed by agent id.

``reset()`` returns ``(observations, infos)`` and ``step(actions)`` returns ``(observations,
rewards, terminateds, truncateds, infos)``, each a dict keyed by agent id. An agent acts on the
next step when it is in the observations; agents may act on some steps and not others, and
enter or leave mid-episode. ``terminateds`` and ``truncateds`` hold ``"__all__"``: the episode
ends when either is True.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym

from plugrl.env.checker import env_label, observation_problem
from plugrl.errors import EnvError

ALL = "__all__"


class MultiAgentEnv(gym.Env):
    """Base class of multi-agent envs.

    Spaces: one shared ``observation_space`` / ``action_space`` for every agent, or one per
    agent in ``observation_spaces`` / ``action_spaces`` (dicts keyed by agent id), or override
    :meth:`get_observation_space` / :meth:`get_action_space`. ``possible_agents`` lists the
    agent ids that may appear (the policies' spaces are inferred from them).
    """

    possible_agents: list[Any] = []
    observation_spaces: dict[Any, gym.Space] | None = None
    action_spaces: dict[Any, gym.Space] | None = None

    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[dict[Any, Any], dict[Any, dict]]:
        raise NotImplementedError

    def step(self, action_dict: dict[Any, Any]) -> tuple[dict, dict, dict, dict, dict]:
        raise NotImplementedError

    def get_agent_ids(self) -> list[Any]:
        """The agent ids that may appear: ``possible_agents``, else the keys of the per-agent
        spaces."""
        if self.possible_agents:
            return list(self.possible_agents)
        return list(self.observation_spaces or {})

    def get_observation_space(self, agent_id: Any) -> gym.Space:
        return _space_of(self, agent_id, self.observation_spaces, "observation_space")

    def get_action_space(self, agent_id: Any) -> gym.Space:
        return _space_of(self, agent_id, self.action_spaces, "action_space")


def _space_of(env: Any, agent_id: Any, per_agent: Mapping | None, shared: str) -> gym.Space:
    if per_agent:
        if agent_id not in per_agent:
            raise EnvError(
                f"{env_label(env)} has no {shared} for agent {agent_id!r} (its {shared}s are "
                f"for {sorted(map(str, per_agent))})."
            )
        return per_agent[agent_id]
    space = getattr(env, shared, None)
    if not isinstance(space, gym.Space):
        raise EnvError(
            f"{env_label(env)} gives no {shared} for agent {agent_id!r}: set {shared} (shared "
            f"by every agent) or {shared}s (a dict keyed by agent id)."
        )
    return space


def make_multi_agent(env: str | Callable[[Any], gym.Env]) -> type[MultiAgentEnv]:
    """A MultiAgentEnv class whose agents ``0 .. num_agents - 1`` each play their own copy of a
    single-agent env (a gymnasium id or ``fn(env_config) -> env``); ``env_config["num_agents"]``
    says how many (default 2). An agent leaves when its copy's episode ends; the episode ends
    when every copy's has."""

    def make_one(config: Any) -> gym.Env:
        return gym.make(env) if isinstance(env, str) else env(config)

    class MultiEnv(MultiAgentEnv):
        def __init__(self, config: Mapping | None = None):
            config = dict(config or {})
            num = int(config.pop("num_agents", 2))
            self.envs = [make_one(config) for _ in range(num)]
            self.possible_agents = list(range(num))
            self.observation_space = self.envs[0].observation_space
            self.action_space = self.envs[0].action_space
            self._terminated: set[int] = set()
            self._truncated: set[int] = set()

        def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple:
            self._terminated, self._truncated = set(), set()
            obs, infos = {}, {}
            for i, sub in enumerate(self.envs):
                obs[i], infos[i] = sub.reset(seed=None if seed is None else seed + i)
            return obs, infos

        def step(self, action_dict: dict) -> tuple:
            obs, rewards, terminateds, truncateds, infos = {}, {}, {}, {}, {}
            for i, action in action_dict.items():
                result = self.envs[i].step(action)
                obs[i], rewards[i], terminateds[i], truncateds[i], infos[i] = result
                if terminateds[i]:
                    self._terminated.add(i)
                elif truncateds[i]:
                    self._truncated.add(i)
            over = len(self._terminated) + len(self._truncated) == len(self.envs)
            terminateds[ALL] = over and not self._truncated
            truncateds[ALL] = over and bool(self._truncated)
            return obs, rewards, terminateds, truncateds, infos

        def render(self) -> Any:
            return self.envs[0].render()

        def close(self) -> None:
            for sub in self.envs:
                sub.close()

    MultiEnv.__name__ = MultiEnv.__qualname__ = f"MultiAgent{_label(env)}"
    return MultiEnv


def _label(env: Any) -> str:
    name = env if isinstance(env, str) else getattr(env, "__name__", "Env")
    return "".join(part for part in str(name).replace("-", "_").split("_") if part)


def check_reset(env: Any, result: Any) -> tuple[dict, dict]:
    """``result`` of ``env.reset()`` as ``(observations, infos)``, or an :class:`EnvError`
    saying what a MultiAgentEnv's reset must return."""
    if not (isinstance(result, tuple) and len(result) == 2 and _dicts(result)):
        raise EnvError(
            f"{env_label(env)}.reset() returned {_show(result)}; a MultiAgentEnv's reset must "
            "return (observations, infos): two dicts keyed by agent id."
        )
    return result


def check_step(env: Any, result: Any) -> tuple[dict, dict, dict, dict, dict]:
    """``result`` of ``env.step()`` as its five dicts, or an :class:`EnvError` naming what is
    missing."""
    if not (isinstance(result, tuple) and len(result) == 5 and _dicts(result)):
        raise EnvError(
            f"{env_label(env)}.step() returned {_show(result)}; a MultiAgentEnv's step must "
            "return (observations, rewards, terminateds, truncateds, infos): five dicts keyed "
            "by agent id."
        )
    for name, flags in (("terminateds", result[2]), ("truncateds", result[3])):
        if ALL not in flags:
            raise EnvError(
                f"{env_label(env)}.step() returned {name} without the key '__all__': say "
                f"whether the episode is over, e.g. {name}['__all__'] = False."
            )
    return result


def check_observation(env: Any, space: gym.Space, agent_id: Any, obs: Any, call: str) -> None:
    """An :class:`EnvError` when ``obs`` of ``agent_id`` does not fit its policy's ``space``."""
    problem = observation_problem(space, obs)
    if problem:
        raise EnvError(
            f"{env_label(env)}.{call}() returned an observation for agent {agent_id!r} that "
            f"does not fit its space {space}: {problem}."
        )


def _dicts(values: tuple) -> bool:
    return all(isinstance(v, Mapping) for v in values)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
