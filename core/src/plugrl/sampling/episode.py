"""Episode: the running record of one episode, handed to callbacks."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from typing import Any

import numpy as np

_AGENT = "agent0"


class Episode:
    """One episode on one env of a worker.

    Callbacks read ``length``, ``total_reward`` and the ``last_*_for()`` accessors, keep scratch
    data in ``user_data``, and report scalars in ``custom_metrics`` (reduced to
    ``<name>_mean/_min/_max`` per iteration) and lists in ``hist_data``.
    """

    _ids = itertools.count()

    def __init__(self, env_index: int, policies: dict):
        self.episode_id = random.getrandbits(62) ^ next(self._ids)
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
