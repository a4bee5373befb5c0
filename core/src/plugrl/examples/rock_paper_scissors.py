"""Rock-paper-scissors for two agents, and fixed heuristic opponents to learn against.

Each agent observes the move its opponent made last (3 before the first move) and is rewarded
+1 for a win, -1 for a loss and 0 for a draw; an episode is ``rounds`` moves (default 10).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.env.multi_agent_env import ALL, MultiAgentEnv
from plugrl.policy import Policy
from plugrl.sampling.seeding import numpy_random

ROCK, PAPER, SCISSORS, NONE = 0, 1, 2, 3
PLAYERS = ("player_0", "player_1")


def beats(move: int) -> int:
    """The move that beats ``move``."""
    return (move + 1) % 3


class RockPaperScissors(MultiAgentEnv):
    """Two players; ``env_config["rounds"]`` moves per episode."""

    possible_agents = list(PLAYERS)
    observation_space = gym.spaces.Discrete(4)
    action_space = gym.spaces.Discrete(3)

    def __init__(self, config: dict | None = None):
        self.rounds = int((config or {}).get("rounds", 10))
        self.played = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple:
        self.played = 0
        return dict.fromkeys(PLAYERS, NONE), {p: {} for p in PLAYERS}

    def step(self, action_dict: dict[str, Any]) -> tuple:
        first, second = (int(action_dict[p]) for p in PLAYERS)
        self.played += 1
        score = 0 if first == second else (1 if first == beats(second) else -1)
        obs = {PLAYERS[0]: second, PLAYERS[1]: first}
        rewards = {PLAYERS[0]: float(score), PLAYERS[1]: float(-score)}
        over = self.played >= self.rounds
        return obs, rewards, {ALL: over}, {ALL: False}, {p: {} for p in PLAYERS}


class _Heuristic(Policy):
    """A fixed policy: acts from the episode's own record (``episode.user_data``), never
    learns, has no weights."""

    def compute_actions(self, obs_batch: Any, state_batches: Any = None, *args: Any, **kwargs: Any):
        episodes = kwargs.get("episodes") or [None] * len(obs_batch)
        actions = np.array([self.move(episode) for episode in episodes], dtype=np.int64)
        return actions, [], {}

    def move(self, episode: Any) -> int:
        raise NotImplementedError

    def get_weights(self) -> dict:
        return {}

    def set_weights(self, weights: dict) -> None:
        pass


class AlwaysSameHeuristic(_Heuristic):
    """Plays one move, drawn at the start of each episode, every round."""

    def move(self, episode: Any) -> int:
        data = episode.user_data if episode is not None else {}
        key = f"always_same/{id(self)}"
        if key not in data:
            data[key] = int(numpy_random().randint(3))
        return data[key]


class CyclingHeuristic(_Heuristic):
    """Plays rock, paper, scissors, rock... from a move drawn at the start of each episode."""

    def move(self, episode: Any) -> int:
        data = episode.user_data if episode is not None else {}
        key = f"cycling/{id(self)}"
        data[key] = (data[key] + 1) % 3 if key in data else int(numpy_random().randint(3))
        return data[key]
