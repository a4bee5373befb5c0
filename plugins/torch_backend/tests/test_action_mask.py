"""The example action-masking model: masked actions are never chosen (the env raises on one),
while the default network, which ignores the mask, soon picks one; PPO learns with it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from plugrl import ConfigError, ModelCatalog
from plugrl.env.examples import ActionMaskEnv
from plugrl_ppo import PPOTrainer
from plugrl_torch.action_mask import ActionMaskModel

CONFIG = {
    "env": ActionMaskEnv,
    "framework": "torch",
    "seed": 0,
    "gamma": 0.5,
    "lr": 1e-3,
    "train_batch_size": 400,
    "sgd_minibatch_size": 100,
    "num_sgd_iter": 4,
    "rollout_fragment_length": 100,
    "num_envs_per_worker": 4,
    "model": {"custom_model": "action_mask_torch", "fcnet_hiddens": [32]},
}


@pytest.fixture(autouse=True)
def _registered():
    ModelCatalog.register_custom_model("action_mask_torch", ActionMaskModel)


def test_masked_actions_get_no_probability():
    prep = ModelCatalog.get_preprocessor(ActionMaskEnv().observation_space)
    env = ActionMaskEnv()
    obs = [env.reset(seed=0)[0]] + [env._next() for _ in range(7)]
    model = ActionMaskModel(prep.observation_space, env.action_space, 6, {}, "m")
    batch = torch.as_tensor(prep.transform_batch(obs))
    logits, _ = model({"obs": batch}, [], None)
    probs = torch.softmax(logits, -1).detach().numpy()
    masks = np.stack([o["action_mask"] for o in obs])
    assert (probs[masks == 0] == 0).all()
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-6)
    assert model.value_function().shape == (8,)


def test_without_the_mask_model_a_masked_action_is_taken():
    config = {**CONFIG, "model": {"fcnet_hiddens": [32]}}
    trainer = PPOTrainer(config=config)
    try:
        with pytest.raises(Exception, match="is masked out"):
            trainer.train()
    finally:
        trainer.stop()


def test_a_space_without_an_action_mask_is_a_config_error():
    prep = ModelCatalog.get_preprocessor(spaces.Box(-1.0, 1.0, (4,)))
    with pytest.raises(ConfigError, match="'action_mask' and 'observations'"):
        ActionMaskModel(prep.observation_space, spaces.Discrete(2), 2, {}, "m")


@pytest.mark.learning
def test_ppo_with_the_mask_never_takes_a_masked_action_and_learns():
    trainer = PPOTrainer(config=CONFIG)
    try:
        first = trainer.train()["episode_reward_mean"]
        for _ in range(24):
            result = trainer.train()  # the env raises on a masked action
            if result["episode_reward_mean"] >= 8.5:
                break
    finally:
        trainer.stop()
    # a policy uniform over the allowed actions scores about 3.3 of 10
    assert first < 4.0
    assert result["episode_reward_mean"] >= 8.5, result["episode_reward_mean"]
