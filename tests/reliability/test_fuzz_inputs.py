"""Property-based: whatever spaces an env declares, whatever its steps return, and whatever
arguments the CLI gets, plugrl either works or stops with one clear error (a PlugrlError, or
exit code 2 with one line) - never a traceback from deep inside."""

from __future__ import annotations

import json
import tempfile

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from plugrl import PlugrlError
from plugrl.testing import run_cli
from plugrl_ppo import PPOTrainer

TINY = {
    "num_envs_per_worker": 1,
    "rollout_fragment_length": 16,
    "train_batch_size": 16,
    "sgd_minibatch_size": 8,
    "num_sgd_iter": 1,
    "model": {"fcnet_hiddens": [4]},
    "seed": 0,
}
FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

DTYPES = st.sampled_from([np.float32, np.float64, np.int64, np.uint8])
SHAPES = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)
LEAF_SPACES = st.one_of(
    st.builds(lambda shape, dtype: spaces.Box(0, 1, shape, dtype), SHAPES, DTYPES),
    st.builds(spaces.Discrete, st.integers(1, 4)),
    st.builds(lambda n: spaces.MultiDiscrete([n, n]), st.integers(1, 3)),
    st.builds(spaces.MultiBinary, st.integers(1, 3)),
)
SPACES = st.recursive(
    LEAF_SPACES,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=2).map(lambda s: spaces.Tuple(tuple(s))),
        st.dictionaries(st.sampled_from("abc"), inner, min_size=1, max_size=2).map(spaces.Dict),
    ),
    max_leaves=3,
)


class SpaceEnv(gym.Env):
    """Samples its observations from its own space; rewards and ends come from ``outputs``."""

    def __init__(self, obs_space, action_space, outputs=None):
        self.observation_space, self.action_space = obs_space, action_space
        self.outputs = outputs or []
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.observation_space.seed(seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        self.t += 1
        if self.t <= len(self.outputs):
            return self.outputs[self.t - 1]
        return self.observation_space.sample(), 1.0, self.t >= 8, False, {}


def _train(env_maker) -> None:
    """Train one tiny PPO iteration; raise what plugrl raises."""
    with tempfile.TemporaryDirectory() as logdir:
        trainer = PPOTrainer(config={**TINY, "env": env_maker}, logdir=logdir)
        try:
            trainer.train()
        finally:
            trainer.stop()


def _works_or_explains(env_maker) -> None:
    try:
        _train(env_maker)
    except PlugrlError as error:
        assert "\n" not in str(error)


@FUZZ
@given(obs_space=SPACES, action_space=LEAF_SPACES)
def test_any_spaces_work_or_are_refused_clearly(obs_space, action_space):
    _works_or_explains(lambda cfg: SpaceEnv(obs_space, action_space))


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.lists(st.floats(-1, 1), max_size=5).map(np.asarray),
)
STEP_OUTPUTS = st.one_of(
    st.tuples(VALUES, VALUES, VALUES, VALUES, VALUES),
    st.tuples(VALUES, VALUES, VALUES, VALUES),
    VALUES,
)


@FUZZ
@given(outputs=st.lists(STEP_OUTPUTS, min_size=1, max_size=3), at=st.integers(0, 2))
def test_any_step_outputs_work_or_are_refused_clearly(outputs, at):
    """A Box(4,) env whose steps after the first ``at`` good ones return arbitrary values."""
    good = (np.zeros(4, np.float32), 1.0, False, False, {})
    space = spaces.Box(-1, 1, (4,), np.float32)
    _works_or_explains(lambda cfg: SpaceEnv(space, spaces.Discrete(2), [good] * at + outputs))


ARGUMENTS = st.lists(
    st.one_of(
        st.sampled_from(["--run", "--env", "--config", "--stop", "--seed", "--num-workers"]),
        st.sampled_from(["--framework", "--checkpoint-freq", "--restore", "--local-dir", "-f"]),
        st.sampled_from(["--keep-checkpoints-num", "--bogus", "-v", "rollout", "plugins"]),
        st.sampled_from(["PPO", "CartPole-v1", "DQN", "nope-v0", "torch", "tf", "jax"]),
        st.sampled_from(['{"lr": 0.1}', '{"lr": "x"}', "{bad", "[]", '{"gamma": 2}', "-1", "0"]),
        st.text(alphabet="ab-{}:0", max_size=4),
    ),
    max_size=6,
)


@FUZZ
@given(args=ARGUMENTS)
def test_any_cli_arguments_work_or_give_one_error_line(capsys, args):
    """``plugrl train`` with arbitrary arguments after a valid base command (one iteration
    at most): exit 0, or exit 2 with one ``plugrl: error:`` line."""
    assume("-v" not in args)  # -vv prints tracebacks on purpose
    with tempfile.TemporaryDirectory() as tmp:
        base = ["train", "--run", "PPO", "--env", "CartPole-v1", "--local-dir", tmp]
        config = ["--config", json.dumps(TINY), "--stop", '{"training_iteration": 1}']
        code, _, err = run_cli(capsys, *base, *config, *args)
    assert "Traceback" not in err
    if code != 0:
        lines = [line for line in err.splitlines() if line.startswith("plugrl: ")]
        assert code == 2 and len(lines) == 1 and lines[0].startswith("plugrl: error: "), err
