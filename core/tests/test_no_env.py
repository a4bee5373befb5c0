"""Trainers without an env: the spaces in the config (gymnasium spaces or their JSON form),
experiences from the input only, and clear errors for what then cannot work."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

from plugrl import ConfigError, EnvError, SampleBatch, Trainer
from plugrl.env.spaces import space_from_json, space_to_json
from plugrl.jsonable import to_jsonable
from plugrl.offline import InputReader
from plugrl_pg import PGTrainer
from plugrl_pg.testing import TINY_CONFIG

SPACES = [
    gym.make("CartPole-v1").observation_space,
    gym.spaces.Box(0.0, 1.0, (2, 3)),
    gym.spaces.Box(-np.inf, np.inf, (2,), np.float64),
    gym.spaces.Box(0, 255, (2, 2), np.uint8),
    gym.spaces.Discrete(3, start=1),
    gym.spaces.MultiDiscrete([3, 2]),
    gym.spaces.MultiBinary([2, 3]),
    gym.spaces.Tuple([gym.spaces.Discrete(2), gym.spaces.Box(-1.0, 1.0, (2,))]),
    gym.spaces.Dict({"a": gym.spaces.Discrete(2), "b": gym.spaces.MultiBinary(3)}),
]


@pytest.mark.parametrize("space", SPACES, ids=str)
def test_spaces_travel_as_json(space):
    data = json.loads(json.dumps(to_jsonable(space)))
    assert data == space_to_json(space)
    assert space_from_json(data) == space


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (1, "not an object"),
        ({"type": "Image"}, "type 'Image' is not one of"),
        ({"type": "Box", "low": 0, "high": 1}, "needs a shape"),
        ({"type": "Box", "low": 0, "high": 1, "shape": [2], "dtype": "object"}, "numeric"),
        ({"type": "Box", "low": [0, "x"], "high": 1}, "'inf' and '-inf'"),
        ({"type": "Box", "low": 1, "high": 0, "shape": [1]}, "low is above its high"),
        ({"type": "Box", "low": 0, "high": 1, "shape": [10**5, 10**5]}, "more than"),
        ({"type": "Discrete", "n": 0}, "n must be an integer >= 1"),
        ({"type": "Discrete", "n": True}, "n must be an integer"),
        ({"type": "Discrete", "n": 2, "size": 3}, "no field 'size'"),
        ({"type": "Tuple", "spaces": []}, "non-empty list"),
    ],
)
def test_a_json_space_that_is_not_one_is_one_clear_error(data, words):
    with pytest.raises(ConfigError, match="observation_space is not a space") as error:
        space_from_json(data, "observation_space")
    assert words in str(error.value)


class RandomCartPole(InputReader):
    """Episodes of CartPole with random actions: experiences from somewhere else than the
    trainer's own envs."""

    def __init__(self, ioctx):
        self.env = gym.make("CartPole-v1")
        self.env.action_space.seed(ioctx.worker_index)
        self.episodes = 0

    def next(self) -> SampleBatch:
        obs, _ = self.env.reset(seed=self.episodes)
        self.episodes += 1
        rows = []
        while True:
            action = self.env.action_space.sample()
            new_obs, reward, terminated, truncated, _ = self.env.step(action)
            rows.append((obs, action, reward, new_obs, terminated, truncated))
            obs = new_obs
            if terminated or truncated:
                break
        columns = list(zip(*rows, strict=True))
        return SampleBatch(
            obs=np.array(columns[0], np.float32),
            actions=np.array(columns[1]),
            rewards=np.array(columns[2], np.float32),
            new_obs=np.array(columns[3], np.float32),
            terminateds=np.array(columns[4]),
            truncateds=np.array(columns[5]),
            eps_id=np.full(len(rows), self.episodes),
        )


CARTPOLE = gym.make("CartPole-v1")
NO_ENV = {
    **TINY_CONFIG,
    "env": None,
    "observation_space": CARTPOLE.observation_space,
    "action_space": CARTPOLE.action_space,
    "input": RandomCartPole,
    "postprocess_inputs": True,
    "input_evaluation": [],
}


def test_a_trainer_without_env_learns_from_its_input_and_checkpoints(tmp_path):
    trainer = PGTrainer(config=NO_ENV, logdir=str(tmp_path))
    try:
        assert trainer.workers.local_worker().envs == []
        result = trainer.train()
        assert result["timesteps_total"] >= 64
        assert np.isfinite(result["info"]["learner"]["default_policy"]["total_loss"])
        action = trainer.compute_single_action(np.zeros(4, np.float32))
        assert action in (0, 1)
        path = trainer.save()
    finally:
        trainer.stop()
    params = json.loads((tmp_path / "params.json").read_text())
    assert params["observation_space"]["type"] == "Box" and params["env"] is None
    # the input names code: a checkpoint never brings it back, the user names it again
    with (
        pytest.warns(UserWarning, match="input"),
        pytest.raises(ConfigError, match="nothing to sample"),
    ):
        Trainer.from_checkpoint(path)
    restored = Trainer.from_checkpoint(path, config={"input": RandomCartPole})
    try:
        assert restored.iteration == 1
        assert restored.get_policy().observation_space.shape == (4,)
    finally:
        restored.stop()


@pytest.mark.parametrize(
    ("overrides", "error", "words"),
    [
        ({"input": "sampler"}, ConfigError, "nothing to sample"),
        ({"observation_space": None}, ConfigError, "gives action_space but not observation_space"),
        ({"observation_space": None, "action_space": None}, EnvError, "No env given"),
        ({"action_space": {"type": "Discrete"}}, ConfigError, "action_space is not a space"),
        ({"action_space": 2}, ConfigError, "action_space' must be None, a gymnasium space"),
        ({"evaluation_interval": 1}, ConfigError, "Evaluation plays the policy in an env"),
        (
            {"env": "CartPole-v1", "action_space": gym.spaces.Discrete(3)},
            ConfigError,
            "Discrete(3)",
        ),
    ],
)
def test_what_cannot_work_without_an_env_is_one_clear_error(tmp_path, overrides, error, words):
    with pytest.raises(error) as raised:
        PGTrainer(config={**NO_ENV, **overrides}, logdir=str(tmp_path))
    assert words in str(raised.value)


def test_a_trainer_without_env_evaluates_in_the_env_its_evaluation_config_names(tmp_path):
    config = {
        **NO_ENV,
        "evaluation_interval": 1,
        "evaluation_duration": 2,
        "evaluation_config": {"env": "CartPole-v1"},
    }
    trainer = PGTrainer(config=config, logdir=str(tmp_path))
    try:
        result = trainer.train()
        assert result["evaluation"]["episodes_this_iter"] == 2
    finally:
        trainer.stop()


def test_a_worker_without_env_refuses_to_sample_from_envs():
    from plugrl import RolloutWorker
    from plugrl_pg import PGTorchPolicy

    config = {**NO_ENV, "input": "sampler"}
    worker = RolloutWorker(None, PGTorchPolicy, config)
    with pytest.raises(ConfigError, match="has no env"):
        worker.sample()
