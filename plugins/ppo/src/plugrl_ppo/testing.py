"""Helpers for tests that build PPO trainers: a config small enough to train in well under a
second per iteration on CartPole-v1."""

TINY_CONFIG = {
    "env": "CartPole-v1",
    "train_batch_size": 128,
    "sgd_minibatch_size": 64,
    "num_sgd_iter": 1,
    "rollout_fragment_length": 64,
    "num_envs_per_worker": 2,
    "model": {"fcnet_hiddens": [8]},
    "seed": 0,
}
