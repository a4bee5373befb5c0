"""Helpers for tests that build MARWIL or BC trainers: a config small enough for a train()
call in well under a second on CartPole-v1."""

TINY_CONFIG = {
    "env": "CartPole-v1",
    "num_envs_per_worker": 2,
    "rollout_fragment_length": 32,
    "train_batch_size": 64,
    "model": {"fcnet_hiddens": [8]},
    "seed": 0,
}
