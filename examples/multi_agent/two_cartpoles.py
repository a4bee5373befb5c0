"""Two agents, each balancing its own CartPole, trained as two PPO policies with their own
learning rates (per-policy config overrides). Run: ``python examples/multi_agent/two_cartpoles.py``.
"""

from __future__ import annotations

from typing import Any

from plugrl import make_multi_agent
from plugrl_ppo import PPOTrainer

TwoCartPoles = make_multi_agent("CartPole-v1")


def fast_or_slow(agent_id: int, *args: Any, **kwargs: Any) -> str:
    return "fast" if agent_id == 0 else "slow"


CONFIG = {
    "seed": 0,
    "env_config": {"num_agents": 2},
    "train_batch_size": 1000,
    "rollout_fragment_length": 500,
    "sgd_minibatch_size": 128,
    "num_sgd_iter": 10,
    "model": {"fcnet_hiddens": [32, 32]},
    "multiagent": {
        "policies": {
            "fast": (None, None, None, {"lr": 3e-3}),
            "slow": (None, None, None, {"lr": 1.5e-3}),
        },
        "policy_mapping_fn": fast_or_slow,
    },
}


def train(reward: float = 150, max_iterations: int = 60, verbose: bool = True) -> dict:
    """Train until both policies' mean reward reaches ``reward``; returns the last result."""
    trainer = PPOTrainer(env=TwoCartPoles, config=CONFIG)
    try:
        for _ in range(max_iterations):
            result = trainer.train()
            if verbose:
                means = sorted(result["policy_reward_mean"].items())
                rewards = ", ".join(f"{k} {v:.1f}" for k, v in means)
                print(f"{result['timesteps_total']:6d} env steps: {rewards}")
            if min(result["policy_reward_mean"].values()) >= reward:
                break
    finally:
        trainer.stop()
    return result


if __name__ == "__main__":
    train()
