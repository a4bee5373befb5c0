"""Env API mistakes are one EnvError naming the API or the space, at the first reset()/step()."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import plugrl
from plugrl.env import checker
from plugrl.env.checker import CheckedEnv
from plugrl.errors import EnvError
from plugrl.registry import registry
from plugrl.testing import cli_error
from plugrl_ppo import PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG

# --- envs: one correct, and one per mistake --------------------------------------------------


class GoodEnv(gym.Env):
    """Four float32 observations, two actions, episodes of 10 steps."""

    observation_space = spaces.Box(-1.0, 1.0, (4,), np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, env_config=None):
        self.t = 0

    def observation(self):
        return np.zeros(4, np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.observation(), {}

    def step(self, action):
        self.t += 1
        return self.observation(), 1.0, self.t >= 10, False, {}


class DictEnv(GoodEnv):
    """A correct Dict observation: a position and a flag."""

    observation_space = spaces.Dict(
        {"pos": spaces.Box(-1.0, 1.0, (2,), np.float32), "flag": spaces.Discrete(2)}
    )

    def observation(self):
        return {"pos": np.full(2, 0.5, np.float32), "flag": self.t % 2}


class OldStepEnv(GoodEnv):
    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        return obs, reward, terminated or truncated, info


class ObsOnlyResetEnv(GoodEnv):
    observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)

    def observation(self):
        return np.zeros(2, np.float32)

    def reset(self, *, seed=None, options=None):
        return super().reset(seed=seed)[0]


class OldResetEnv(GoodEnv):
    def reset(self):
        return self.observation(), {}


class WrongShapeEnv(GoodEnv):
    def observation(self):
        return np.zeros(3, np.float32)


class StringObsEnv(GoodEnv):
    def observation(self):
        return "abc"


class DictMissingKeyEnv(DictEnv):
    def observation(self):
        return {"pos": np.zeros(2, np.float32)}


class DictExtraKeyEnv(DictEnv):
    def observation(self):
        return {**super().observation(), "speed": 1.0}


class TupleLengthEnv(GoodEnv):
    observation_space = spaces.Tuple((spaces.Discrete(2), spaces.Discrete(3), spaces.Discrete(4)))

    def observation(self):
        return (0, 1)


class DiscreteRangeEnv(GoodEnv):
    observation_space = spaces.Discrete(3)

    def observation(self):
        return 5


class NestedShapeEnv(DictEnv):
    def observation(self):
        return {"pos": np.zeros(3, np.float32), "flag": 0}


class NoneRewardEnv(GoodEnv):
    def step(self, action):
        obs, _, terminated, truncated, info = super().step(action)
        return obs, None, terminated, truncated, info


class StepInfoListEnv(GoodEnv):
    def step(self, action):
        obs, reward, terminated, truncated, _ = super().step(action)
        return obs, reward, terminated, truncated, []


class ResetInfoNoneEnv(GoodEnv):
    def reset(self, *, seed=None, options=None):
        return super().reset(seed=seed)[0], None


class StringTerminatedEnv(GoodEnv):
    def step(self, action):
        obs, reward, _, truncated, info = super().step(action)
        return obs, reward, "no", truncated, info


class NoSpacesEnv(gym.Env):
    def reset(self, *, seed=None, options=None):
        return 0, {}

    def step(self, action):
        return 0, 0.0, True, False, {}


class DuckEnv:
    """reset() and step(), but not a gymnasium.Env."""

    observation_space = GoodEnv.observation_space
    action_space = GoodEnv.action_space

    def reset(self, *, seed=None, options=None):
        return np.zeros(4, np.float32), {}

    def step(self, action):
        return np.zeros(4, np.float32), 1.0, False, False, {}


# --- each mistake: one EnvError naming the env, the call, what was expected and what was seen --

MISTAKES = {
    OldStepEnv: [
        "step() returned a tuple of 4 values",
        "old gym API",
        "Return (obs, reward, terminated, truncated, info) from step()",
    ],
    ObsOnlyResetEnv: [
        "reset() returned an ndarray of shape (2,) and dtype float32, not (obs, info)",
        "Return (obs, info) from reset(), as gymnasium >= 0.26 does",
    ],
    OldResetEnv: ["reset() takes no seed argument", "reset(self, *, seed=None, options=None)"],
    WrongShapeEnv: ["reset()'s observation has shape (3,)", "Box(", "has shape (4,)"],
    StringObsEnv: ["reset()'s observation is 'abc' (str)", "Box(", "holds numbers"],
    DictMissingKeyEnv: [
        "reset()'s observation lacks key(s) 'flag'",
        "Dict with keys 'flag', 'pos'",
    ],
    DictExtraKeyEnv: ["reset()'s observation has key(s) 'speed'", "does not declare"],
    TupleLengthEnv: [
        "reset()'s observation has 2 elements",
        "observation_space Tuple(",
        "has 3 spaces",
    ],
    DiscreteRangeEnv: [
        "reset()'s observation is 5, outside observation_space Discrete(3) (0 to 2)"
    ],
    NestedShapeEnv: [
        "reset()'s observation['pos'] has shape (3,)",
        "observation_space['pos'] Box(",
    ],
    NoneRewardEnv: ["step() returned None (NoneType) as reward, not a real number"],
    StepInfoListEnv: ["step() returned [] (list) as info, not a dict"],
    ResetInfoNoneEnv: ["reset() returned None (NoneType) as info, not a dict", "(obs, info)"],
    StringTerminatedEnv: ["step() returned 'no' (str) as terminated, not a bool"],
}


@pytest.mark.parametrize("env_class", list(MISTAKES), ids=lambda c: c.__name__)
def test_mistake_is_one_clear_env_error(env_class):
    env = CheckedEnv(env_class())
    with pytest.raises(EnvError) as error:
        env.reset(seed=0)
        env.step(0)
    message = str(error.value)
    assert message.startswith(f"Env {env_class.__name__!r}: "), message
    for fragment in MISTAKES[env_class]:
        assert fragment in message, message


@pytest.mark.parametrize(
    "env, fragments",
    [
        (
            NoSpacesEnv(),
            ["but observation_space is missing and action_space is missing", "ported to gymnasium"],
        ),
        (DuckEnv(), ["Env 'DuckEnv' is a", "not a gymnasium.Env: subclass gymnasium.Env"]),
    ],
    ids=["missing-spaces", "not-a-gymnasium-env"],
)
def test_wrong_env_is_caught_at_wrap_time(env, fragments):
    with pytest.raises(EnvError) as error:
        CheckedEnv(env)
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)


def test_gymnasium_env_is_named_by_its_spec_id():
    class BadCartPole(gym.Wrapper):
        def step(self, action):
            return self.env.step(action)[:4]

    env = CheckedEnv(BadCartPole(gym.make("CartPole-v1")))
    env.reset(seed=0)
    with pytest.raises(EnvError, match=r"^Env 'CartPole-v1': step\(\) returned a tuple of 4"):
        env.step(0)


# --- what is not a mistake, and what the wrapper leaves alone ----------------------------------


def test_numbers_that_train_fine_pass():
    """float64 for a float32 Box, values outside its bounds, numpy scalars and bools."""

    class LooseEnv(GoodEnv):
        def observation(self):
            return np.full(4, 7.0)  # float64, outside [-1, 1]

        def step(self, action):
            return self.observation(), np.float32(1.0), np.bool_(False), 0, {}

    env = CheckedEnv(LooseEnv())
    env.reset(seed=0)
    env.step(0)


def test_only_the_first_calls_are_checked():
    class LaterBadEnv(GoodEnv):
        def step(self, action):
            result = super().step(action)
            return result if self.t == 1 else result[:4]

    env = CheckedEnv(LaterBadEnv())
    env.reset(seed=0)
    env.step(0)
    assert len(env.step(0)) == 4  # passed through unchecked


def test_wrapper_changes_nothing_else():
    inner = gym.make("CartPole-v1")
    env = CheckedEnv(inner)
    assert env.unwrapped is inner.unwrapped
    assert env.observation_space == inner.observation_space
    assert env.action_space == inner.action_space
    assert env.spec.id == "CartPole-v1"
    first, _ = env.reset(seed=3)
    again, _ = env.reset(seed=3, options=None)
    np.testing.assert_array_equal(first, again)
    assert env.get_wrapper_attr("spec").id == "CartPole-v1"

    class PhasedEnv(GoodEnv):
        phase = 0

        def set_phase(self, phase):
            self.phase = phase

    env = CheckedEnv(PhasedEnv())
    env.set_phase(2)  # an env's own methods stay reachable, as the curriculum example needs
    assert env.phase == env.unwrapped.phase == 2
    env.set_wrapper_attr("phase", 3)
    assert env.unwrapped.phase == 3


# --- through a trainer and the CLI -------------------------------------------------------------


def _train_once(tmp_path, **config):
    trainer = PPOTrainer(config={**TINY_CONFIG, **config}, logdir=str(tmp_path))
    try:
        return trainer.train()
    finally:
        trainer.stop()


@pytest.mark.parametrize("env", ["CartPole-v1", DictEnv], ids=["CartPole-v1", "Dict"])
def test_correct_env_trains(tmp_path, env):
    result = _train_once(tmp_path, env=env)
    assert result["timesteps_total"] >= TINY_CONFIG["train_batch_size"]
    assert np.isfinite(result["episode_reward_mean"])


def test_mistake_stops_training_with_env_error(tmp_path):
    with pytest.raises(EnvError, match=r"^Env 'WrongShapeEnv': reset\(\)'s observation"):
        _train_once(tmp_path, env=WrongShapeEnv)


def test_seeded_runs_are_unchanged_by_the_wrapper(tmp_path, monkeypatch):
    """The wrapper consumes no randomness: same seed, same first iteration, wrapped or not."""
    first = _train_once(tmp_path / "a")["episode_reward_mean"]
    second = _train_once(tmp_path / "b")["episode_reward_mean"]
    monkeypatch.setattr(checker, "CheckedEnv", lambda env: env)
    unwrapped = _train_once(tmp_path / "c")["episode_reward_mean"]
    assert first == second == unwrapped


@pytest.fixture
def bad_step_env():
    """'plugrl-test-old-step-env', registered for one test."""
    name = "plugrl-test-old-step-env"
    plugrl.register_env(name, lambda env_config: OldStepEnv())
    try:
        yield name
    finally:
        registry("envs").remove(name)


def test_cli_prints_one_line(capsys, tmp_path, bad_step_env):
    config = {k: v for k, v in TINY_CONFIG.items() if k != "env"}
    line = cli_error(
        capsys, "train", "--run", "PPO", "--env", bad_step_env, "--config", json.dumps(config),
        "--stop", json.dumps({"training_iteration": 1}), "--local-dir", str(tmp_path),
    )  # fmt: skip
    assert "Env 'OldStepEnv': step() returned a tuple of 4 values" in line


class LaterMistakesEnv(gym.Env):
    """Well-formed first calls; on step 3, the ``mistake`` (a malformed return or a wrong
    observation)."""

    observation_space = spaces.Box(-1.0, 1.0, (4,), np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, mistake):
        self.mistake, self.t = mistake, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(4, np.float32), {}

    def step(self, action):
        self.t += 1
        if self.t == 3:
            return self.mistake
        return np.zeros(4, np.float32), 1.0, False, False, {}


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        (None, "step() returned None (NoneType)"),
        ((np.zeros(4), 1.0, False, {}), "(obs, reward, done, info): the old gym API"),
        ((np.zeros(3), 1.0, False, False, {}), "observation has shape (3,), but"),
        (({"x": 1}, 1.0, False, False, {}), "observation is {'x': 1} (dict)"),
    ],
)
def test_mistakes_on_later_steps_name_the_api_or_the_space(tmp_path, mistake, message):
    trainer = PPOTrainer(
        config={**TINY_CONFIG, "env": lambda cfg: LaterMistakesEnv(mistake)}, logdir=str(tmp_path)
    )
    try:
        with pytest.raises(EnvError) as error:
            trainer.train()
    finally:
        trainer.stop()
    assert message in str(error.value)
    assert "Env 'LaterMistakesEnv'" in str(error.value)
