"""User callbacks in every supported style, custom metrics, and misspelt hook names."""

from __future__ import annotations

import json

import numpy as np
import pytest

from plugrl import ConfigError, DefaultCallbacks, MultiCallbacks, hookimpl
from plugrl.testing import run_cli
from plugrl_ppo import PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG

TINY = TINY_CONFIG


def _train_once(tmp_path, callbacks):
    trainer = PPOTrainer(config={**TINY, "callbacks": callbacks}, logdir=str(tmp_path))
    try:
        return trainer, trainer.train()
    finally:
        trainer.stop()


# (c) the legacy dict from the classic docs, verbatim except for the prints
LEGACY_CALLS: list[str] = []


def on_episode_start(info):
    episode = info["episode"]
    assert set(info) >= {"env", "episode"}
    episode.user_data["pole_angles"] = []


def on_episode_step(info):
    episode = info["episode"]
    pole_angle = abs(episode.last_observation_for()[2])
    episode.user_data["pole_angles"].append(pole_angle)


def on_episode_end(info):
    episode = info["episode"]
    pole_angle = np.mean(episode.user_data["pole_angles"])
    assert len(episode.user_data["pole_angles"]) == episode.length
    episode.custom_metrics["pole_angle"] = pole_angle


def on_train_result(info):
    LEGACY_CALLS.append("on_train_result:{}".format(info["result"]["episodes_this_iter"]))
    assert info["trainer"] is not None


def on_postprocess_traj(info):
    batch = info["post_batch"]
    LEGACY_CALLS.append(f"traj:{batch.count}")


def test_legacy_dict_custom_metrics(tmp_path):
    LEGACY_CALLS.clear()
    _, result = _train_once(
        tmp_path,
        {
            "on_episode_start": on_episode_start,
            "on_episode_step": on_episode_step,
            "on_episode_end": on_episode_end,
            "on_train_result": on_train_result,
            "on_postprocess_traj": on_postprocess_traj,
        },
    )
    assert result["episodes_this_iter"] > 0
    cm = result["custom_metrics"]
    assert set(cm) == {"pole_angle_mean", "pole_angle_min", "pole_angle_max"}
    assert 0 < cm["pole_angle_min"] <= cm["pole_angle_mean"] <= cm["pole_angle_max"] < 0.25
    assert LEGACY_CALLS[-1] == f"on_train_result:{result['episodes_this_iter']}"
    traj = [int(c.split(":")[1]) for c in LEGACY_CALLS if c.startswith("traj:")]
    assert sum(traj) == result["timesteps_total"]


def test_legacy_on_train_result_trainer_name(tmp_path):
    names = []
    _train_once(tmp_path, {"on_train_result": lambda info: names.append(info["trainer"].__name__)})
    assert names == ["PPO"]


# (a) a plain class with @hookimpl methods taking only some of the spec's arguments
class HookimplCallbacks:
    seen: list = []

    @hookimpl
    def on_episode_end(self, episode):
        episode.custom_metrics["length_x2"] = 2 * episode.length

    @hookimpl
    def on_train_result(self, algorithm, result):
        HookimplCallbacks.seen.append((type(algorithm).__name__, result["training_iteration"]))


def test_hookimpl_class(tmp_path):
    HookimplCallbacks.seen = []
    _, result = _train_once(tmp_path, HookimplCallbacks)
    assert HookimplCallbacks.seen == [("PPO", 1)]
    assert result["custom_metrics"]["length_x2_mean"] == pytest.approx(
        2 * result["episode_len_mean"]
    )


# (b) a DefaultCallbacks subclass with keyword-only arguments and **kwargs
class RLlibStyle(DefaultCallbacks):
    trainers: list = []

    def on_episode_start(self, *, worker, base_env, policies, episode, env_index, **kwargs):
        episode.user_data["env_index"] = env_index
        episode.user_data["policies"] = sorted(policies)

    def on_episode_end(self, *, worker, base_env, policies, episode, env_index, **kwargs):
        assert episode.user_data["env_index"] == env_index
        assert episode.user_data["policies"] == ["default_policy"]
        episode.custom_metrics["env_index"] = env_index

    def on_train_result(self, *, trainer, result, **kwargs):
        RLlibStyle.trainers.append((trainer, kwargs.get("algorithm")))
        result["callback_ok"] = True


def test_default_callbacks_subclass(tmp_path):
    RLlibStyle.trainers = []
    trainer, result = _train_once(tmp_path, RLlibStyle)
    assert RLlibStyle.trainers == [(trainer, trainer)]
    assert result["callback_ok"] is True
    assert result["custom_metrics"]["env_index_min"] == 0
    assert result["custom_metrics"]["env_index_max"] == 1  # two envs per worker


# (d) MultiCallbacks
class A(DefaultCallbacks):
    def on_episode_end(self, *, episode, **kwargs):
        episode.custom_metrics["a"] = 1.0


class B(DefaultCallbacks):
    def on_episode_end(self, *, episode, **kwargs):
        episode.custom_metrics["b"] = 2.0

    def on_sample_end(self, *, worker, samples, **kwargs):
        assert samples.count == TINY["rollout_fragment_length"] * TINY["num_envs_per_worker"]


def test_multi_callbacks(tmp_path):
    _, result = _train_once(tmp_path, MultiCallbacks([A, B]))
    cm = result["custom_metrics"]
    assert cm["a_mean"] == 1.0 and cm["b_max"] == 2.0


def test_list_of_mixed_styles(tmp_path):
    _, result = _train_once(
        tmp_path,
        [
            A,
            {
                "on_episode_end": on_episode_end,
                "on_episode_start": on_episode_start,
                "on_episode_step": on_episode_step,
            },
        ],
    )
    assert {"a_mean", "pole_angle_mean"} <= set(result["custom_metrics"])


class Misspelt(DefaultCallbacks):
    def on_episode_ends(self, *, episode, **kwargs): ...


def test_misspelt_method_is_config_error():
    from plugrl.callbacks import Callbacks

    with pytest.raises(ConfigError, match=r"on_episode_ends.*Did you mean: 'on_episode_end'"):
        Callbacks(Misspelt)


def test_misspelt_method_via_trainer(tmp_path):
    with pytest.raises(ConfigError, match="Did you mean: 'on_episode_end'"):
        PPOTrainer(config={**TINY, "callbacks": Misspelt}, logdir=str(tmp_path))


def test_misspelt_legacy_key():
    from plugrl.callbacks import Callbacks

    with pytest.raises(ConfigError, match=r"'on_train_results'.*Did you mean: 'on_train_result'"):
        Callbacks({"on_train_results": print})


class CountSamples:
    """An installed-plugin style module object implementing a lifecycle hook."""

    calls = 0

    @staticmethod
    @hookimpl
    def on_sample_end(samples):
        CountSamples.calls += 1


def test_installed_plugin_hooks_run_once_beside_user_callbacks(tmp_path):
    from plugrl import register_plugin, unregister_plugin

    register_plugin(CountSamples, name="count-samples")
    try:
        trainer = PPOTrainer(config={**TINY, "callbacks": HookimplCallbacks}, logdir=str(tmp_path))
        trainer.train()
        assert CountSamples.calls == 1  # one sample() per iteration with TINY
        trainer.stop()
    finally:
        unregister_plugin("count-samples")


CLI_CALLBACKS = """
from pathlib import Path
from plugrl import DefaultCallbacks


class Recorder(DefaultCallbacks):
    def on_train_result(self, *, trainer, result, **kwargs):
        with open({log!r}, "a") as log:
            log.write(trainer.__name__ + "\\n")
"""


def test_callbacks_named_by_import_path_in_cli_config_run(capsys, tmp_path, monkeypatch):
    log = tmp_path / "calls.log"
    (tmp_path / "my_callbacks.py").write_text(CLI_CALLBACKS.format(log=str(log)))
    monkeypatch.syspath_prepend(str(tmp_path))
    config = {k: v for k, v in TINY.items() if k != "env"}
    config["callbacks"] = "my_callbacks:Recorder"
    code, _, err = run_cli(
        capsys, "train", "--run", "PPO", "--env", "CartPole-v1", "--config", json.dumps(config),
        "--stop", '{"training_iteration": 2}', "--local-dir", str(tmp_path / "results"),
    )  # fmt: skip
    assert code == 0, err
    assert log.read_text().split() == ["PPO", "PPO"]


def test_callbacks_import_path_that_does_not_import(tmp_path):
    with pytest.raises(ConfigError, match="'nowhere.module:Nope' cannot be imported"):
        PPOTrainer(config={**TINY, "callbacks": "nowhere.module:Nope"}, logdir=str(tmp_path))


class ZeroAdvantages(DefaultCallbacks):
    """Sees each minibatch before the policy learns on it, and changes it."""

    sizes: list[int] = []

    def on_learn_on_batch(self, *, policy, train_batch, result, **kwargs):
        ZeroAdvantages.sizes.append(train_batch.count)
        train_batch["advantages"][:] = 0.0


def test_on_learn_on_batch_sees_and_may_change_every_minibatch(tmp_path):
    ZeroAdvantages.sizes.clear()
    _, result = _train_once(tmp_path, ZeroAdvantages)
    minibatches = TINY["train_batch_size"] // TINY["sgd_minibatch_size"] * TINY["num_sgd_iter"]
    assert ZeroAdvantages.sizes == [TINY["sgd_minibatch_size"]] * minibatches
    # with every advantage 0, PPO's surrogate is 0: the policy learned on the changed rows
    assert result["info"]["learner"]["default_policy"]["policy_loss"] == 0.0
