"""Rock-paper-scissors: a learned PG policy against two fixed heuristics.

player_0 is always the learned policy; player_1 is, per episode, a heuristic that plays one
move all episode or one that cycles rock, paper, scissors. Only "learned" is in
policies_to_train. Run: ``python examples/multi_agent/rock_paper_scissors.py``.
"""

from __future__ import annotations

import gymnasium as gym

from plugrl.examples.rock_paper_scissors import (
    AlwaysSameHeuristic,
    CyclingHeuristic,
    RockPaperScissors,
)
from plugrl_pg import PGTrainer

MOVES, OPPONENT_MOVES = gym.spaces.Discrete(3), gym.spaces.Discrete(4)


def policy_for(agent_id, episode, worker, **kwargs):
    if agent_id == "player_0":
        return "learned"
    return "always_same" if episode.episode_id % 2 else "cycling"


def main() -> None:
    trainer = PGTrainer(
        env=RockPaperScissors,
        config={
            "seed": 0,
            "lr": 1e-2,
            "train_batch_size": 500,
            "rollout_fragment_length": 50,
            "num_envs_per_worker": 2,
            "model": {"fcnet_hiddens": [32]},
            "multiagent": {
                "policies": {
                    "learned": (None, OPPONENT_MOVES, MOVES, {}),
                    "always_same": (AlwaysSameHeuristic, OPPONENT_MOVES, MOVES, {}),
                    "cycling": (CyclingHeuristic, OPPONENT_MOVES, MOVES, {}),
                },
                "policy_mapping_fn": policy_for,
                "policies_to_train": ["learned"],
            },
        },
    )
    for _ in range(25):
        result = trainer.train()
        rewards = ", ".join(
            f"{k} {v:+.2f}" for k, v in sorted(result["policy_reward_mean"].items())
        )
        print(f"iteration {result['training_iteration']:2d}: {rewards}")
    trainer.stop()


if __name__ == "__main__":
    main()
