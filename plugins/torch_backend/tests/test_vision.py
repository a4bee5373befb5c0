"""The torch vision network: chosen for images, default filters per size, clear errors,
uint8 scaling inside the model, uint8 batches, and a seeded image env learned with PPO."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from plugrl import ConfigError, ModelCatalog
from plugrl.config_schema import ModelConfig
from plugrl.env.examples import BrightSquareEnv
from plugrl.models import MODEL_DEFAULTS
from plugrl_ppo import PPOTrainer
from plugrl_torch.models import FullyConnectedNetwork, VisionNetwork, get_model

SMALL = {"fcnet_hiddens": [8]}
IMAGE_PPO = {
    "env": BrightSquareEnv,
    "framework": "torch",
    "seed": 0,
    "gamma": 0.5,
    "lr": 1e-3,
    "train_batch_size": 400,
    "sgd_minibatch_size": 100,
    "num_sgd_iter": 4,
    "rollout_fragment_length": 100,
    "num_envs_per_worker": 4,
    "model": {"fcnet_hiddens": [32]},
}


def _images(space: spaces.Box, n: int = 3) -> np.ndarray:
    space.seed(0)
    return np.stack([space.sample() for _ in range(n)])


@pytest.mark.parametrize("size", [84, 64, 42, 10])
def test_default_filters_for_common_sizes(size):
    space = spaces.Box(0, 255, (size, size, 3), np.uint8)
    model = get_model(space, spaces.Discrete(4), 4, SMALL)
    assert isinstance(model, VisionNetwork)
    out, _ = model({"obs": torch.as_tensor(_images(space), dtype=torch.float32)}, [], None)
    assert out.shape == (3, 4)
    assert model.value_function().shape == (3,)


def test_weights_show_conv_layers_for_both_branches():
    space = spaces.Box(0, 255, (10, 10, 2), np.uint8)
    weights = get_model(space, spaces.Discrete(2), 2, SMALL).state_dict()
    assert weights["policy_conv.0.weight"].shape == (16, 2, 3, 3)
    assert weights["value_conv.0.weight"].shape == (16, 2, 3, 3)
    assert weights["policy_hidden.0.weight"].shape == (8, 16 * 8 * 8)
    shared = get_model(space, spaces.Discrete(2), 2, {**SMALL, "vf_share_layers": True})
    assert not any(name.startswith("value_conv") for name in shared.state_dict())


def test_conv_filters_and_activation_are_used():
    space = spaces.Box(0, 255, (12, 12, 1), np.uint8)
    config = {**SMALL, "conv_filters": [[4, [3, 3], 2], [6, [2, 2], 1]], "conv_activation": "tanh"}
    model = get_model(space, spaces.Discrete(2), 2, config)
    assert isinstance(model.conv_activation, torch.nn.Tanh)
    assert model.state_dict()["policy_conv.1.weight"].shape == (6, 4, 2, 2)
    assert model.state_dict()["policy_hidden.0.weight"].shape == (8, 6 * 4 * 4)


def test_integer_pixels_are_scaled_inside_the_model():
    pixels = spaces.Box(0, 255, (10, 10, 1), np.uint8)
    floats = spaces.Box(0.0, 1.0, (10, 10, 1), np.float32)
    a = get_model(pixels, spaces.Discrete(2), 2, SMALL)
    b = get_model(floats, spaces.Discrete(2), 2, SMALL)
    b.load_state_dict(a.state_dict())
    x = torch.as_tensor(_images(pixels), dtype=torch.float32)
    torch.testing.assert_close(a({"obs": x}, [], None)[0], b({"obs": x / 255}, [], None)[0])


def test_sizes_without_defaults_and_filters_that_do_not_fit_are_one_line_errors():
    odd = spaces.Box(0, 255, (30, 20, 3), np.uint8)
    with pytest.raises(ConfigError, match=r"30x20x3 images.*set model.conv_filters") as error:
        get_model(odd, spaces.Discrete(2), 2, SMALL)
    assert "\n" not in str(error.value)
    with pytest.raises(ConfigError, match="leaves nothing of a 30x20 image"):
        get_model(odd, spaces.Discrete(2), 2, {"conv_filters": [[8, [25, 25], 1]]})


@pytest.mark.parametrize(
    "bad", [[[8, [3], 1]], [[8, 3, 1]], [[0, [3, 3], 1]], [], "relu", [[8, [3, 3], 1.5]]]
)
def test_schema_refuses_malformed_conv_filters(bad):
    with pytest.raises(ValueError, match="conv_filters"):
        ModelConfig.model_validate({**MODEL_DEFAULTS, "conv_filters": bad})


def test_flat_observations_still_get_the_fully_connected_network():
    for space in [spaces.Box(-1.0, 1.0, (4,)), spaces.Box(-1.0, 1.0, (2, 3))]:
        prep = ModelCatalog.get_preprocessor(space)
        model = get_model(prep.observation_space, spaces.Discrete(2), 2, SMALL)
        assert type(model) is FullyConnectedNetwork


def test_batches_keep_uint8_images():
    small = {"train_batch_size": 64, "sgd_minibatch_size": 32, "rollout_fragment_length": 16}
    trainer = PPOTrainer(config={**IMAGE_PPO, **small})
    try:
        batch = trainer.workers.local_worker().sample()
        assert batch["obs"].dtype == np.uint8
        assert batch["obs"].shape[1:] == (10, 10, 1)
        assert trainer.compute_action(batch["obs"][0]) in (0, 1)
    finally:
        trainer.stop()


@pytest.mark.learning
def test_ppo_learns_where_the_bright_square_is():
    trainer = PPOTrainer(config=IMAGE_PPO)
    try:
        assert any(k.startswith("policy_conv") for k in trainer.get_policy().get_weights())
        for _ in range(15):
            result = trainer.train()
            if result["episode_reward_mean"] >= 9.0:
                break
    finally:
        trainer.stop()
    # 10 images per episode: a random policy scores 5
    assert result["episode_reward_mean"] >= 9.0, result["episode_reward_mean"]


def test_only_pixel_ranges_are_scaled_and_images_refuse_a_mean_std_filter():
    from plugrl.models.visionnet import vision_layout

    config = {**MODEL_DEFAULTS, **SMALL}
    assert vision_layout(spaces.Box(0, 255, (10, 10, 1), np.uint8), config).scale == 1 / 255
    assert vision_layout(spaces.Box(0, 15, (10, 10, 1), np.int64), config).scale == 1 / 15
    limits = np.iinfo(np.int32)  # a dtype's limits (a custom preprocessor's), not pixels
    assert (
        vision_layout(spaces.Box(limits.min, limits.max, (10, 10, 1), np.int32), config).scale == 1
    )
    with pytest.raises(ConfigError, match="MeanStdFilter would turn policy 'default_policy'"):
        PPOTrainer(config={**IMAGE_PPO, "observation_filter": "MeanStdFilter"})
