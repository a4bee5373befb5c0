"""NaN and infinity: a non-finite reward or observation from an env is an error naming the env
and the step (or replaced, as the config says); a non-finite loss or gradient stops training
with an error naming the iteration, the policy and the stats (or is skipped and counted), and
is never applied: weights and checkpoints already saved stay finite."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from plugrl import EnvError, register_env
from plugrl.checkpoint import read_state
from plugrl.errors import NonFiniteError
from plugrl.registry import registry
from plugrl.testing import cli_error
from plugrl_a3c import A3CTorchPolicy
from plugrl_ppo import PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG


class BadValueEnv(gym.Wrapper):
    """CartPole whose step number ``at`` (counted over the env's life) returns ``reward``
    and/or an observation with ``obs`` in it."""

    def __init__(self, at: int, reward: object = 1.0, obs: float | None = None):
        super().__init__(gym.make("CartPole-v1"))
        self.at, self.bad_reward, self.bad_obs, self.calls = at, reward, obs, 0

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.calls += 1
        if self.calls == self.at:
            reward = self.bad_reward
            if self.bad_obs is not None:
                obs = np.full_like(obs, self.bad_obs)
        return obs, reward, terminated, truncated, info


def _trainer(tmp_path: Path, env: object, **config: object) -> PPOTrainer:
    return PPOTrainer(config={**TINY_CONFIG, "env": env, **config}, logdir=str(tmp_path))


@pytest.mark.parametrize(
    ("bad", "seen"),
    [
        ({"reward": float("nan")}, "a reward nan"),
        ({"reward": float("inf")}, "a reward inf"),
        ({"reward": None}, "a reward None"),
        ({"obs": float("nan")}, "an observation containing nan"),
        ({"obs": float("-inf")}, "an observation containing -inf"),
    ],
)
def test_a_bad_env_value_names_the_env_and_the_step(tmp_path, bad, seen):
    trainer = _trainer(tmp_path, lambda cfg: BadValueEnv(at=5, **bad))
    try:
        with pytest.raises(EnvError) as error:
            trainer.train()
    finally:
        trainer.stop()
    message = str(error.value)
    assert f"Env 'CartPole-v1' (env 0 of this worker) returned {seen} at step 5" in message
    assert "nonfinite_env_values: 'clip'" in message and "\n" not in message


def test_clip_mode_replaces_bad_env_values_and_counts_them(tmp_path):
    trainer = _trainer(
        tmp_path,
        lambda cfg: BadValueEnv(at=5, reward=float("nan"), obs=float("inf")),
        nonfinite_env_values="clip",
    )
    try:
        result = trainer.train()
        weights = trainer.get_weights()["default_policy"]
    finally:
        trainer.stop()
    assert result["sampler_perf"]["num_nonfinite_env_values_replaced"] == 2 * 2  # 2 envs
    assert all(np.isfinite(w).all() for w in weights.values())


def _huge_reward_env(cfg):
    return BadValueEnv(at=100, reward=1e30)  # finite, but its squared value error is not


@pytest.fixture
def huge_reward_env():
    register_env("huge-reward-cartpole", _huge_reward_env)
    yield "huge-reward-cartpole"
    registry("envs").remove("huge-reward-cartpole")


def test_a_non_finite_loss_stops_training_and_keeps_the_weights(tmp_path, huge_reward_env):
    trainer = _trainer(tmp_path, huge_reward_env)
    try:
        with pytest.raises(NonFiniteError) as error:
            while True:
                before = trainer.get_weights()["default_policy"]
                trainer.train()
        after = trainer.get_weights()["default_policy"]
    finally:
        trainer.stop()
    message = str(error.value)
    assert message.startswith(f"Iteration {trainer.iteration + 1}: PPOTorchPolicy computed")
    assert "total_loss=inf" in message and "skip_nonfinite_updates" in message
    for name, value in before.items():
        np.testing.assert_array_equal(after[name], value)


def test_skip_nonfinite_updates_counts_them(tmp_path, huge_reward_env):
    trainer = _trainer(tmp_path, huge_reward_env, skip_nonfinite_updates=True)
    try:
        for _ in range(4):
            result = trainer.train()
        weights = trainer.get_weights()["default_policy"]
    finally:
        trainer.stop()
    assert result["num_skipped_updates"] > 0
    assert all(np.isfinite(w).all() for w in weights.values())


def test_the_cli_stops_with_one_line_and_keeps_earlier_checkpoints(
    capsys, tmp_path, huge_reward_env
):
    config = {k: v for k, v in TINY_CONFIG.items() if k != "env"}
    line = cli_error(
        capsys, "train", "--run", "PPO", "--env", huge_reward_env, "--config", json.dumps(config),
        "--checkpoint-freq", "1", "--local-dir", str(tmp_path),
    )  # fmt: skip
    assert "computed a non-finite loss or gradient" in line
    saved = sorted(tmp_path.rglob("checkpoint_*"))
    assert saved, "no checkpoint was written before the loss went bad"
    weights = read_state(saved[-1])["worker"]["policies"]["default_policy"]["weights"]
    assert all(np.isfinite(w).all() for w in weights.values())


def test_non_finite_gradients_from_another_worker_are_not_applied():
    policy = A3CTorchPolicy(gym.make("CartPole-v1").observation_space, gym.spaces.Discrete(2), {})
    before = policy.get_weights()
    grads = [np.zeros(p.shape, np.float32) for p in policy.model.parameters()]
    grads[0][0, 0] = np.nan
    with pytest.raises(NonFiniteError, match=r"gradients of the weights at \[0\]"):
        policy.apply_gradients(grads)
    policy.config = {**policy.config, "skip_nonfinite_updates": True}
    policy.apply_gradients(grads)
    assert policy.num_skipped_updates == 2
    after = policy.get_weights()
    for name, value in before.items():
        np.testing.assert_array_equal(after[name], value)
