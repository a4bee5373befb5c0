"""Images through the preprocessor (shape and dtype kept), the Dict parts of flat
observations, and custom preprocessors registered with the ModelCatalog (RLlib's form)."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

from plugrl import ConfigError, ModelCatalog, PluginError, get_preprocessor
from plugrl.env.examples import BrightSquareEnv
from plugrl.env.preprocessors import (
    FlattenPreprocessor,
    ImagePreprocessor,
    Preprocessor,
    split_flat,
)
from plugrl.export import ExportError
from plugrl_pg import PGTrainer
from plugrl_pg.testing import TINY_CONFIG


class PositionsOnly(Preprocessor):
    """CartPole's cart position and pole angle, without the velocities."""

    def _init_shape(self, obs_space, options):
        return (2,)

    def transform(self, observation):
        return np.asarray(observation, np.float32)[[0, 2]]


@pytest.mark.parametrize(
    ("space", "shape", "dtype"),
    [
        (spaces.Box(0, 255, (6, 5, 3), np.uint8), (6, 5, 3), np.uint8),
        (spaces.Box(0, 255, (6, 5), np.uint8), (6, 5, 1), np.uint8),
        (spaces.Box(0, 1, (4, 4, 2), bool), (4, 4, 2), np.uint8),
        (spaces.Box(0.0, 1.0, (4, 4, 2), np.float64), (4, 4, 2), np.float32),
    ],
)
def test_images_keep_their_shape_and_pixels(space, shape, dtype):
    assert get_preprocessor(space) is ImagePreprocessor
    prep = ModelCatalog.get_preprocessor(space)
    assert prep.observation_space.shape == shape
    assert prep.observation_space.dtype == dtype
    space.seed(0)
    raw = [space.sample(), space.sample()]
    batch = prep.transform_batch(raw)
    assert batch.dtype == dtype and batch.shape == (2, *shape)
    np.testing.assert_array_equal(batch[1], np.asarray(raw[1], dtype).reshape(shape))


def test_other_spaces_are_flattened_and_split_back():
    space = spaces.Dict({"a": spaces.Discrete(3), "b": spaces.Box(0, 1, (2, 2), np.float32)})
    prep = ModelCatalog.get_preprocessor(space)
    assert isinstance(prep, FlattenPreprocessor)
    assert prep.observation_space.original_space == space
    obs = {"a": 1, "b": np.arange(4, dtype=np.float32).reshape(2, 2)}
    parts = split_flat(prep.transform_batch([obs, obs]), space)
    np.testing.assert_array_equal(parts["a"], [[0, 1, 0]] * 2)
    np.testing.assert_array_equal(parts["b"], [[0, 1, 2, 3]] * 2)


def test_a_custom_preprocessor_shapes_what_the_policy_sees(tmp_path):
    ModelCatalog.register_custom_preprocessor("positions_only", PositionsOnly)
    config = {
        **TINY_CONFIG,
        "model": {**TINY_CONFIG["model"], "custom_preprocessor": "positions_only"},
    }
    trainer = PGTrainer(config=config, logdir=str(tmp_path))
    try:
        assert isinstance(trainer.workers.local_worker().preprocessor, PositionsOnly)
        assert trainer.get_policy().observation_space.shape == (2,)
        batch = trainer.workers.local_worker().sample()
        assert batch["obs"].shape[1:] == (2,)
        assert trainer.compute_action(np.zeros(4, np.float32)) in (0, 1)
        trainer.train()
        with pytest.raises(ExportError, match="custom preprocessor PositionsOnly"):
            trainer.export_policy_model(str(tmp_path / "export"))
    finally:
        trainer.stop()


class Thumbnail(Preprocessor):
    """Every other pixel of a uint8 image: a custom preprocessor that keeps pixels."""

    dtype = np.uint8

    def _init_shape(self, obs_space, options):
        height, width, channels = obs_space.shape
        return ((height + 1) // 2, (width + 1) // 2, channels)

    def transform(self, observation):
        return np.asarray(observation)[::2, ::2]


def test_a_custom_image_preprocessor_feeds_the_vision_network():
    thumb = Thumbnail(spaces.Box(0, 255, (20, 20, 1), np.uint8))
    assert thumb.observation_space == spaces.Box(0, 255, (10, 10, 1), np.uint8)
    ModelCatalog.register_custom_preprocessor("thumbnail", Thumbnail)
    model = {"custom_preprocessor": "thumbnail", "fcnet_hiddens": [8]}
    config = {**TINY_CONFIG, "env": BrightSquareEnv, "env_config": {"size": 20}, "model": model}
    trainer = PGTrainer(config=config)
    try:
        assert trainer.get_policy().get_weights()["policy_conv.0.weight"].shape == (16, 1, 3, 3)
        batch = trainer.workers.local_worker().sample()
        assert batch["obs"].dtype == np.uint8 and batch["obs"].shape[1:] == (10, 10, 1)
    finally:
        trainer.stop()


def test_custom_preprocessor_mistakes_are_clear():
    with pytest.raises(ConfigError, match="must subclass plugrl.env.preprocessors.Preprocessor"):
        ModelCatalog.register_custom_preprocessor("bad", dict)
    space = spaces.Box(-1.0, 1.0, (4,))
    with pytest.raises(PluginError, match="no_such_preprocessor"):
        ModelCatalog.get_preprocessor(space, {"custom_preprocessor": "no_such_preprocessor"})
    with pytest.raises(ConfigError, match="is not a preprocessor"):
        ModelCatalog.get_preprocessor(space, {"custom_preprocessor": dict})
