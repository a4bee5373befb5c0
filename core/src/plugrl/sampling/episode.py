"""Episode: the running record of one episode, handed to callbacks."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from plugrl.sampling.policy_map import checked_policy_id
from plugrl.sampling.seeding import python_random

_AGENT = "agent0"


class Episode:
    """One episode on one env of a worker.

    Callbacks read ``length``, ``total_reward`` and the ``last_*_for()`` accessors, keep scratch
    data in ``user_data``, and report scalars in ``custom_metrics`` (reduced to
    ``<name>_mean/_min/_max`` per iteration) and lists in ``hist_data``.
    """

    def __init__(self, env_index: int, policies: dict):
        # from the sampling worker's generator: a seeded worker's ids repeat
        self.episode_id = python_random().getrandbits(62)
        self.env_id = env_index
        self.policy_map = policies
        self.length = 0
        self.total_reward = 0.0
        self.agent_rewards: dict[tuple[str, str], float] = defaultdict(float)
        self.user_data: dict[str, Any] = {}
        self.custom_metrics: dict[str, float] = {}
        self.hist_data: dict[str, list] = {}
        self.media: dict[str, Any] = {}
        self._last_obs: Any = None
        self._last_raw_obs: Any = None
        self._last_action: Any = None
        self._last_reward = 0.0
        self._last_info: dict = {}
        self._rnn_state: list = []

    def _start(self, raw_obs: Any, obs: np.ndarray, info: dict) -> None:
        self._last_raw_obs, self._last_obs, self._last_info = raw_obs, obs, info

    def _step(
        self, action: Any, raw_obs: Any, obs: np.ndarray, reward: float, info: dict, policy_id: str
    ) -> None:
        self.length += 1
        self.total_reward += reward
        self.agent_rewards[(_AGENT, policy_id)] += reward
        self._last_action = action
        self._last_raw_obs, self._last_obs = raw_obs, obs
        self._last_reward, self._last_info = reward, info

    def last_observation_for(self, agent_id: str = _AGENT) -> Any:
        """The last observation, preprocessed and filtered as the policy saw it."""
        return self._last_obs

    def last_raw_obs_for(self, agent_id: str = _AGENT) -> Any:
        """The last observation as the env returned it."""
        return self._last_raw_obs

    def last_action_for(self, agent_id: str = _AGENT) -> Any:
        return self._last_action

    def prev_reward_for(self, agent_id: str = _AGENT) -> float:
        return self._last_reward

    def last_info_for(self, agent_id: str = _AGENT) -> dict:
        return self._last_info

    def rnn_state_for(self, agent_id: str = _AGENT) -> list:
        """The recurrent state the policy is fed at the next step (its last state out, or the
        initial state at the start); empty for feed-forward policies."""
        return self._rnn_state


class MultiAgentEpisode(Episode):
    """One episode of a multi-agent env: the ``last_*_for(agent_id)`` accessors answer per
    agent, :meth:`policy_for` says which policy acts for an agent (asked once per episode),
    and ``agent_rewards`` sums each ``(agent_id, policy_id)``'s rewards."""

    def __init__(self, env_index: int, policies: dict, mapping: Any, worker: Any):
        super().__init__(env_index, policies)
        self._mapping = mapping
        self._worker = worker
        self._policy_of: dict[Any, str] = {}
        self._agent_index: dict[Any, int] = {}
        self._last: dict[str, dict[Any, Any]] = defaultdict(dict)

    def policy_for(self, agent_id: Any = _AGENT) -> str:
        """The policy id acting for ``agent_id`` in this episode."""
        if agent_id not in self._policy_of:
            pid = self._mapping(agent_id, self, self._worker)
            self._policy_of[agent_id] = checked_policy_id(pid, agent_id, self.policy_map)
            self._agent_index[agent_id] = len(self._agent_index)
        return self._policy_of[agent_id]

    def agent_index(self, agent_id: Any) -> int:
        """The order in which ``agent_id`` first appeared in this episode (0 first)."""
        self.policy_for(agent_id)
        return self._agent_index[agent_id]

    def get_agents(self) -> list[Any]:
        """The agents seen so far in this episode."""
        return list(self._agent_index)

    def _observe(self, agent_id: Any, raw_obs: Any, obs: Any, info: dict | None) -> None:
        self._last["raw_obs"][agent_id] = raw_obs
        self._last["obs"][agent_id] = obs
        if info is not None:
            self._last["info"][agent_id] = info

    def _act(self, agent_id: Any, action: Any) -> None:
        self._last["action"][agent_id] = action

    def _reward(self, agent_id: Any, reward: float) -> None:
        self.total_reward += reward
        self.agent_rewards[(agent_id, self.policy_for(agent_id))] += reward
        self._last["reward"][agent_id] = reward

    def policy_rewards(self) -> dict[str, list[float]]:
        """``{policy_id: [each of its agents' total reward]}`` of this episode."""
        out: dict[str, list[float]] = defaultdict(list)
        for (_, pid), reward in self.agent_rewards.items():
            out[pid].append(float(reward))
        return dict(out)

    def last_observation_for(self, agent_id: Any = _AGENT) -> Any:
        return self._last["obs"].get(agent_id)

    def last_raw_obs_for(self, agent_id: Any = _AGENT) -> Any:
        return self._last["raw_obs"].get(agent_id)

    def last_action_for(self, agent_id: Any = _AGENT) -> Any:
        return self._last["action"].get(agent_id)

    def prev_reward_for(self, agent_id: Any = _AGENT) -> float:
        return self._last["reward"].get(agent_id, 0.0)

    def last_info_for(self, agent_id: Any = _AGENT) -> dict:
        return self._last["info"].get(agent_id, {})
