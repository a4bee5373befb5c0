"""Helpers for tests that build DQN trainers: a config that trains in well under a second per
iteration on CartPole-v1."""

import numpy as np

from plugrl import SampleBatch
from plugrl_dqn.postprocessing import DISCOUNTS
from plugrl_dqn.replay_buffer import WEIGHTS

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


def random_transitions(
    n: int, seed: int, obs_dim: int = 3, num_actions: int = 3, n_step_discounts: bool = False
) -> SampleBatch:
    """A replayed-looking batch of ``n`` random transitions (with importance ``weights``, and
    n-step ``discounts`` when asked) for tests of the Q losses."""
    rng = np.random.default_rng(seed)
    batch = SampleBatch(
        {
            "obs": rng.normal(size=(n, obs_dim)).astype(np.float32),
            "new_obs": rng.normal(size=(n, obs_dim)).astype(np.float32),
            "actions": rng.integers(num_actions, size=n),
            "rewards": rng.normal(size=n).astype(np.float32),
            "terminateds": rng.random(n) < 0.3,
            WEIGHTS: rng.random(n).astype(np.float32),
        }
    )
    if n_step_discounts:
        batch[DISCOUNTS] = rng.choice([0.9, 0.81, 0.729], size=n).astype(np.float32)
    return batch
