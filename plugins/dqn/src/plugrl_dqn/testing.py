"""Helpers for tests that build DQN trainers: a config that trains in well under a second per
iteration on CartPole-v1."""

TINY_CONFIG = {
    "env": "CartPole-v1",
    "model": {"fcnet_hiddens": [16]},
    "hiddens": [16],
    "learning_starts": 64,
    "buffer_size": 1000,
    "train_batch_size": 16,
    "timesteps_per_iteration": 100,
    "target_network_update_freq": 40,
    "seed": 0,
}
