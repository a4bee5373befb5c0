"""The TF vision network and action-masking model in short PPO runs: conv weights, uint8
batches, masked actions never taken. (Their outputs match torch's: tests/test_tf_torch_parity.)"""

from __future__ import annotations

import numpy as np

from plugrl import ModelCatalog
from plugrl.env.examples import ActionMaskEnv, BrightSquareEnv
from plugrl_ppo import PPOTrainer
from plugrl_tf import ActionMaskModel, VisionNetwork

SMALL = {
    "framework": "tf",
    "seed": 0,
    "train_batch_size": 128,
    "sgd_minibatch_size": 64,
    "num_sgd_iter": 2,
    "rollout_fragment_length": 32,
    "num_envs_per_worker": 4,
}


def test_ppo_trains_a_vision_network_on_images():
    trainer = PPOTrainer(config={**SMALL, "env": BrightSquareEnv, "model": {"fcnet_hiddens": [8]}})
    try:
        policy = trainer.get_policy()
        assert isinstance(policy.model, VisionNetwork)
        weights = policy.get_weights()
        assert weights["policy_conv.0.weight"].shape == (16, 1, 3, 3)
        assert weights["value_conv.0.weight"].shape == (16, 1, 3, 3)
        assert trainer.workers.local_worker().sample()["obs"].dtype == np.uint8
        for _ in range(2):
            result = trainer.train()
        assert result["timesteps_total"] == 256
        after = policy.get_weights()["policy_conv.0.weight"]
        assert not np.allclose(after, weights["policy_conv.0.weight"])
    finally:
        trainer.stop()


def test_ppo_with_the_action_mask_model_takes_no_masked_action():
    ModelCatalog.register_custom_model("action_mask_tf", ActionMaskModel)
    model = {"custom_model": "action_mask_tf", "fcnet_hiddens": [8]}
    trainer = PPOTrainer(config={**SMALL, "env": ActionMaskEnv, "model": model})
    try:
        for _ in range(2):
            trainer.train()  # ActionMaskEnv raises on a masked action
    finally:
        trainer.stop()
