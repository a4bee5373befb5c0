"""Helpers for tests that build A2C/A3C trainers: a config small enough for a train() call in
well under a second on CartPole-v1 (A3C: add num_workers >= 1)."""

TINY_CONFIG = {
    "env": "CartPole-v1",
    "num_workers": 0,
    "num_envs_per_worker": 2,
    "rollout_fragment_length": 16,
    "train_batch_size": 64,
    "model": {"fcnet_hiddens": [8]},
    "optimizer": {},
    "seed": 0,
}
