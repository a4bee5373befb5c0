"""Config merging and validation: unknown keys with suggestions, batch sizes, explorations."""

from __future__ import annotations

import warnings

import pytest

from plugrl import ConfigError
from plugrl.config import (
    COMMON_CONFIG,
    merge_dicts,
    merge_trainer_config,
    warn_if_train_batch_uneven,
)
from plugrl_ppo import DEFAULT_CONFIG, PPOTrainer

TINY = {
    "env": "CartPole-v1",
    "train_batch_size": 64,
    "sgd_minibatch_size": 32,
    "num_sgd_iter": 1,
    "rollout_fragment_length": 32,
    "num_envs_per_worker": 2,
    "model": {"fcnet_hiddens": [8]},
}


def test_defaults_are_not_mutated_by_merge():
    config = merge_trainer_config(DEFAULT_CONFIG, {"model": {"fcnet_hiddens": [4]}})
    assert config["model"]["fcnet_hiddens"] == [4]
    assert config["model"]["fcnet_activation"] == "tanh"  # deep merge keeps siblings
    assert DEFAULT_CONFIG["model"]["fcnet_hiddens"] == [256, 256]


def test_unknown_top_level_key_suggests_closest():
    with pytest.raises(ConfigError, match=r"'lr_schedul'.*Did you mean: 'lr_schedule'"):
        merge_trainer_config(DEFAULT_CONFIG, {"lr_schedul": [[0, 1e-3]]})


def test_unknown_top_level_key_via_trainer(tmp_path):
    with pytest.raises(ConfigError, match="Did you mean: 'lr_schedule'"):
        PPOTrainer(config={**TINY, "lr_schedul": None}, logdir=str(tmp_path))


def test_unknown_model_key():
    with pytest.raises(
        ConfigError, match=r"'fcnet_hidden' in 'model'.*Did you mean: 'fcnet_hiddens'"
    ):
        merge_trainer_config(COMMON_CONFIG, {"model": {"fcnet_hidden": [8]}})


def test_free_form_keys_accept_anything():
    config = merge_trainer_config(
        COMMON_CONFIG, {"env_config": {"anything": 1}, "model": {"custom_model_config": {"x": 2}}}
    )
    assert config["env_config"] == {"anything": 1}
    assert config["model"]["custom_model_config"] == {"x": 2}


def test_unknown_evaluation_config_key():
    with pytest.raises(ConfigError, match=r"'explor'.*evaluation_config.*'explore'"):
        merge_trainer_config(COMMON_CONFIG, {"evaluation_config": {"explor": False}})
    ok = merge_trainer_config(COMMON_CONFIG, {"evaluation_config": {"explore": False}})
    assert ok["evaluation_config"] == {"explore": False}


def test_exploration_config_unknown_key_for_its_type(tmp_path):
    bad = {**TINY, "exploration_config": {"type": "StochasticSampling", "random_timestep": 5}}
    with pytest.raises(
        ConfigError,
        match=r"'random_timestep'.*StochasticSampling.*"
        r"'random_timesteps'",
    ):
        PPOTrainer(config=bad, logdir=str(tmp_path))


def test_exploration_config_known_key_accepted(tmp_path):
    good = {**TINY, "exploration_config": {"random_timesteps": 5}}
    trainer = PPOTrainer(config=good, logdir=str(tmp_path))
    try:
        assert trainer.config["exploration_config"] == {
            "type": "StochasticSampling",
            "random_timesteps": 5,
        }
        assert trainer.get_policy().exploration.random_timesteps == 5
    finally:
        trainer.stop()


def test_exploration_config_replaced_when_type_changes():
    base = merge_dicts(
        COMMON_CONFIG, {"exploration_config": {"type": "StochasticSampling", "random_timesteps": 7}}
    )
    same = merge_dicts(base, {"exploration_config": {"type": "StochasticSampling"}})
    assert same["exploration_config"] == {"type": "StochasticSampling", "random_timesteps": 7}
    changed = merge_dicts(base, {"exploration_config": {"type": "Random"}})
    assert changed["exploration_config"] == {"type": "Random"}


def test_batch_size_warning():
    def check(**overrides):
        warn_if_train_batch_uneven(merge_trainer_config(COMMON_CONFIG, overrides))

    with pytest.warns(UserWarning, match="not a multiple"):
        check(rollout_fragment_length=200, train_batch_size=300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check(rollout_fragment_length=100, train_batch_size=300)
        # replay-based trainers do not collect train_batch_size samples: no warning there
        merge_trainer_config(COMMON_CONFIG, {"rollout_fragment_length": 7, "train_batch_size": 32})
    with pytest.warns(UserWarning, match="will hold 1024 steps"):  # one round is bigger
        check(
            rollout_fragment_length=64, num_envs_per_worker=8, num_workers=2, train_batch_size=512
        )


@pytest.mark.parametrize("value", [1.5, "2", True, -1])
def test_num_workers_must_be_a_non_negative_integer(value):
    with pytest.raises(ConfigError, match=r"'num_workers' must be an integer >= 0"):
        merge_trainer_config(COMMON_CONFIG, {"num_workers": value})


def test_bad_batch_mode():
    with pytest.raises(ConfigError, match="batch_mode"):
        merge_trainer_config(COMMON_CONFIG, {"batch_mode": "complete_episode"})


def test_non_integer_num_workers_via_trainer(tmp_path):
    with pytest.raises(ConfigError, match="num_workers"):
        PPOTrainer(config={**TINY, "num_workers": 0.5}, logdir=str(tmp_path))


def test_nested_unknown_key_in_evaluation_config():
    with pytest.raises(ConfigError, match=r"'fcnet_hidens' in 'evaluation_config.model'"):
        merge_trainer_config(COMMON_CONFIG, {"evaluation_config": {"model": {"fcnet_hidens": [8]}}})


@pytest.mark.parametrize("key", ["sample_async"])
def test_features_not_supported_yet_are_refused(key):
    with pytest.raises(ConfigError, match=f"'{key}' is not supported yet"):
        merge_trainer_config(COMMON_CONFIG, {key: True})
