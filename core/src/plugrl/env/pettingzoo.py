"""PettingZoo envs as MultiAgentEnvs: :class:`PettingZooEnv` for the turn-based AEC API,
:class:`ParallelPettingZooEnv` for the Parallel API (``pip install pettingzoo``; nothing here
imports it).

Observations pass through as the env gives them, so a Dict observation with an
``action_mask`` reaches the policy's model (and infos the env fills stay in the batch).
"""

from __future__ import annotations

from typing import Any

from plugrl.env.multi_agent_env import ALL, MultiAgentEnv


class _PettingZooSpaces(MultiAgentEnv):
    """The agents and per-agent spaces of a wrapped PettingZoo env."""

    def __init__(self, env: Any):
        self.env = env
        self.possible_agents = list(env.possible_agents)
        self.observation_spaces = {a: env.observation_space(a) for a in self.possible_agents}
        self.action_spaces = {a: env.action_space(a) for a in self.possible_agents}
        self.metadata = getattr(env, "metadata", {})
        self.render_mode = getattr(env, "render_mode", None)

    def render(self) -> Any:
        return self.env.render()

    def close(self) -> None:
        self.env.close()


class PettingZooEnv(_PettingZooSpaces):
    """A PettingZoo AEC env (agents take turns): each step acts for the agent whose turn it
    is and observes for the next; rewards reach every agent they are given to (kept by the
    sampler until that agent acts again). Agents that are done are stepped out with ``None``
    actions, observed one last time, and reported as terminated or truncated."""

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple:
        self.env.reset(seed=seed, options=options)
        agent = self.env.agent_selection
        return {agent: self.env.observe(agent)}, {agent: dict(self.env.infos.get(agent, {}))}

    def step(self, action_dict: dict[Any, Any]) -> tuple:
        env = self.env
        agent = env.agent_selection
        if agent not in action_dict:
            raise ValueError(
                f"It is {agent!r}'s turn in {type(env).__name__}, but the actions were for "
                f"{sorted(map(str, action_dict))}."
            )
        env.step(action_dict[agent])
        obs: dict[Any, Any] = {}
        rewards = {a: float(r) for a, r in env.rewards.items()}
        terminateds: dict[Any, bool] = {}
        truncateds: dict[Any, bool] = {}
        infos: dict[Any, dict] = {}
        while env.agents:
            current = env.agent_selection
            obs[current] = env.observe(current)
            infos[current] = dict(env.infos.get(current, {}))
            if not (env.terminations[current] or env.truncations[current]):
                break
            terminateds[current] = bool(env.terminations[current])
            truncateds[current] = not terminateds[current]
            env.step(None)  # a done agent leaves
        over = not env.agents
        terminateds[ALL] = over and all(terminateds.values())
        truncateds[ALL] = over and not terminateds[ALL]
        return obs, rewards, terminateds, truncateds, infos


class ParallelPettingZooEnv(_PettingZooSpaces):
    """A PettingZoo Parallel env (every live agent acts each step); the episode is over when
    no agent is left."""

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple:
        obs, infos = self.env.reset(seed=seed, options=options)
        return dict(obs), {a: dict(infos.get(a, {})) for a in obs}

    def step(self, action_dict: dict[Any, Any]) -> tuple:
        obs, rewards, terminations, truncations, infos = self.env.step(action_dict)
        terminateds = {a: bool(v) for a, v in terminations.items()}
        truncateds = {a: bool(v) for a, v in truncations.items()}
        over = not self.env.agents
        terminateds[ALL] = over and all(terminateds.values())
        truncateds[ALL] = over and not terminateds[ALL]
        return dict(obs), dict(rewards), terminateds, truncateds, dict(infos)
