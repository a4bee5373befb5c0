"""MARWIL and BC: registration, the loss against a hand computation on both frameworks (TF
eager and traced), returns as value targets, the moving average in checkpoints, one train()
call per trainer and framework, and BC cloning a CartPole expert."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import plugrl_marwil
from plugrl import Postprocessing, SampleBatch, get_trainer_class
from plugrl.sampling.seeding import seed_all
from plugrl.testing import run_cli
from plugrl_marwil import BCTrainer, MARWILTrainer
from plugrl_marwil.testing import TINY_CONFIG

# framework name, policy class name, eager_tracing
BACKENDS = {
    "torch": ("torch", "MARWILTorchPolicy", False),
    "tf": ("tf", "MARWILTFPolicy", False),
    "tf traced": ("tf", "MARWILTFPolicy", True),
}
# A linear model (no hidden layers) with these weights: logits = obs @ W.T + b, V = obs @ v + c.
WEIGHTS = {
    "policy_out.weight": np.array([[0.5, -0.3], [0.2, 0.4]], np.float32),
    "policy_out.bias": np.array([0.1, -0.1], np.float32),
    "value_out.weight": np.array([[0.7, -0.2]], np.float32),
    "value_out.bias": np.array([0.3], np.float32),
}
OBS = np.array([[0.1, -0.5], [0.9, 0.3], [-0.4, 0.8], [0.2, 0.2]], np.float32)
ACTIONS = np.array([0, 1, 1, 0])
RETURNS = np.array([1.5, -0.5, 2.0, 0.0], np.float32)


def _policy(backend: str, **config):
    framework, name, tracing = BACKENDS[backend]
    cls = getattr(plugrl_marwil, name)
    policy = cls(
        spaces.Box(-1.0, 1.0, (2,)),
        spaces.Discrete(2),
        {
            "framework": framework,
            "eager_tracing": tracing,
            "model": {"fcnet_hiddens": []},
            "moving_average_sqd_adv_norm_start": 2.0,
            "moving_average_sqd_adv_norm_update_rate": 0.5,
            "lr": 0.0,  # the weights stay as set
            **config,
        },
    )
    policy.set_weights(WEIGHTS)
    return policy


def _expected(beta: float, average: float, vf_coeff: float = 1.0) -> tuple[dict, float]:
    """The loss terms on OBS, ACTIONS and RETURNS, and the moving average after its update."""
    logits = OBS @ WEIGHTS["policy_out.weight"].T + WEIGHTS["policy_out.bias"]
    logp = (logits - np.log(np.exp(logits).sum(axis=1, keepdims=True)))[np.arange(4), ACTIONS]
    if beta == 0.0:
        return {"policy_loss": -logp.mean(), "total_loss": -logp.mean()}, average
    values = OBS @ WEIGHTS["value_out.weight"][0] + WEIGHTS["value_out.bias"][0]
    adv = RETURNS - values
    average += 0.5 * (np.mean(adv**2) - average)
    policy_loss = -np.mean(np.exp(beta * adv / (1e-8 + np.sqrt(average))) * logp)
    vf_loss = 0.5 * np.mean(adv**2)
    terms = {
        "policy_loss": policy_loss,
        "vf_loss": vf_loss,
        "total_loss": policy_loss + vf_coeff * vf_loss,
        "moving_average_sqd_adv_norm": average,
    }
    return terms, average


def _batch() -> SampleBatch:
    return SampleBatch(
        {
            SampleBatch.OBS: OBS,
            SampleBatch.ACTIONS: ACTIONS,
            Postprocessing.VALUE_TARGETS: RETURNS,
        }
    )


def test_registered_as_marwil_and_bc(capsys):
    assert get_trainer_class("MARWIL") is MARWILTrainer
    assert get_trainer_class("BC") is BCTrainer
    assert issubclass(BCTrainer, MARWILTrainer)
    code, out, _ = run_cli(capsys, "plugins")
    assert code == 0 and "MARWIL" in out and "BC" in out


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_loss_is_the_hand_computed_one(backend, beta):
    policy = _policy(backend, beta=beta, vf_coeff=0.5)
    average = 2.0
    for _ in range(2):  # lr 0: the same weights, and the average goes on from the first call's
        expected, average = _expected(beta, average, vf_coeff=0.5)
        stats = policy.learn_on_batch(_batch())["learner_stats"]
        for key, value in expected.items():
            assert stats[key] == pytest.approx(value, rel=1e-5), key
        assert float(policy.moving_average_sqd_adv_norm) == pytest.approx(average, rel=1e-5)
    if beta == 0.0:  # behaviour cloning: no value loss
        assert "vf_loss" not in stats
    else:
        assert "vf_explained_var" in stats


@pytest.mark.parametrize("backend", ["torch", "tf traced"])
def test_the_moving_average_is_saved_and_restored(backend):
    policy = _policy(backend)
    policy.learn_on_batch(_batch())
    state = policy.get_state()
    _, average = _expected(1.0, 2.0)
    assert state["moving_average_sqd_adv_norm"] == pytest.approx(average, rel=1e-5)
    restored = _policy(backend)
    restored.set_state(state)
    assert float(restored.moving_average_sqd_adv_norm) == state["moving_average_sqd_adv_norm"]
    _, average = _expected(1.0, state["moving_average_sqd_adv_norm"])
    stats = restored.learn_on_batch(_batch())["learner_stats"]  # traced code reads the new value
    assert stats["moving_average_sqd_adv_norm"] == pytest.approx(average, rel=1e-5)


@pytest.mark.parametrize("terminated", [True, False])
def test_value_targets_are_returns_bootstrapped_when_cut(terminated):
    policy = _policy("torch", gamma=0.9)
    trajectory = SampleBatch(
        {
            SampleBatch.OBS: OBS[:3],
            SampleBatch.NEXT_OBS: OBS[1:],
            SampleBatch.REWARDS: np.array([1.0, 0.0, 2.0], np.float32),
            SampleBatch.TERMINATEDS: np.array([False, False, terminated]),
        }
    )
    out = policy.postprocess_trajectory(trajectory)
    last = 0.0 if terminated else OBS[3] @ WEIGHTS["value_out.weight"][0] + 0.3
    expected = [1.0 + 0.9 * 0.0 + 0.81 * (2.0 + 0.9 * last), 0.9 * (2.0 + 0.9 * last)]
    expected.append(2.0 + 0.9 * last)
    np.testing.assert_allclose(out[Postprocessing.VALUE_TARGETS], expected, rtol=1e-5)


@pytest.mark.parametrize("trainer_cls", [MARWILTrainer, BCTrainer], ids=["MARWIL", "BC"])
@pytest.mark.parametrize("backend", ["torch", "tf traced"])
def test_trains_once_from_the_sampler(tmp_path, trainer_cls, backend):
    framework, name, tracing = BACKENDS[backend]
    config = {**TINY_CONFIG, "framework": framework, "eager_tracing": tracing}
    trainer = trainer_cls(config=config, logdir=str(tmp_path))
    try:
        policy = trainer.get_policy()
        assert type(policy).__name__ == name
        assert policy.config["beta"] == (0.0 if trainer_cls is BCTrainer else 1.0)
        before = policy.get_weights()
        result = trainer.train()
        after = policy.get_weights()
        assert any(not np.array_equal(before[k], after[k]) for k in before)
        stats = result["info"]["learner"]["default_policy"]
        assert {"total_loss", "policy_loss", "cur_lr"} <= set(stats)
        marwil_stats = {"vf_loss", "vf_explained_var", "moving_average_sqd_adv_norm"}
        assert (marwil_stats <= set(stats)) == (trainer_cls is MARWILTrainer)
        assert result["timesteps_total"] >= TINY_CONFIG["train_batch_size"]
    finally:
        trainer.stop()


def _cartpole_episodes(act, seeds) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """The observations, actions and returns of one CartPole-v1 episode per seed."""
    env = gym.make("CartPole-v1")
    observations, actions, returns = [], [], []
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        done, total = False, 0.0
        while not done:
            action = act(obs)
            observations.append(obs)
            actions.append(action)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += reward
            done = terminated or truncated
        returns.append(total)
    return np.array(observations, np.float32), np.array(actions), returns


@pytest.mark.learning
def test_bc_clones_a_cartpole_expert():
    def expert(obs: np.ndarray) -> int:  # push the way the pole is falling
        return int(obs[2] + obs[3] > 0)

    obs, actions, _ = _cartpole_episodes(expert, range(4))
    data = SampleBatch({SampleBatch.OBS: obs, SampleBatch.ACTIONS: actions})
    seed_all(0, "torch")
    env = gym.make("CartPole-v1")
    policy = plugrl_marwil.MARWILTorchPolicy(
        env.observation_space,
        env.action_space,
        {"beta": 0.0, "lr": 0.01, "model": {"fcnet_hiddens": [16]}},
    )
    rng = np.random.default_rng(0)
    for _ in range(300):
        policy.learn_on_batch(data.take(rng.integers(0, data.count, 256)))

    def greedy(o: np.ndarray) -> int:
        return int(policy.compute_single_action(o, explore=False)[0])

    _, _, returns = _cartpole_episodes(greedy, range(100, 103))
    assert np.mean(returns) >= 400, returns
