"""Two agents, each balancing its own CartPole, trained as two PPO policies with their own
learning rates (per-policy config overrides). Run: ``python examples/multi_agent/two_cartpoles.py``.
"""

from __future__ import annotations

from plugrl import make_multi_agent
from plugrl_ppo import PPOTrainer

TwoCartPoles = make_multi_agent("CartPole-v1")


def main() -> None:
    trainer = PPOTrainer(
        env=TwoCartPoles,
        config={
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
                "policy_mapping_fn": lambda agent_id, *args, **kwargs: (
                    "fast" if agent_id == 0 else "slow"
                ),
            },
        },
    )
    for _ in range(60):
        result = trainer.train()
        rewards = ", ".join(f"{k} {v:.1f}" for k, v in sorted(result["policy_reward_mean"].items()))
        print(f"{result['timesteps_total']:6d} env steps: {rewards}")
        if min(result["policy_reward_mean"].values()) >= 150:
            break
    trainer.stop()


if __name__ == "__main__":
    main()
