"""EpsilonGreedy, PerWorkerEpsilonGreedy, SoftQ, GaussianNoise, OrnsteinUhlenbeckNoise and
ParameterNoise: schedules, deterministic paths, state round trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from plugrl import ConfigError, Exploration
from plugrl_exploration import (
    EpsilonGreedy,
    GaussianNoise,
    OrnsteinUhlenbeckNoise,
    ParameterNoise,
    PerWorkerEpsilonGreedy,
    SoftQ,
)
from plugrl_torch import TorchCategorical, TorchDiagGaussian

DISCRETE = spaces.Discrete(4)
BOX = spaces.Box(-2.0, 2.0, (2,), np.float32)


def _make(cls: type, space=DISCRETE, **kwargs) -> Exploration:
    kwargs.setdefault("policy_config", {})
    return cls(space, framework="torch", model=None, **kwargs)


def _q_values(n: int) -> TorchCategorical:
    """Q-values whose greedy action is 2 in every row."""
    q = torch.zeros(n, 4)
    q[:, 2] = 1.0
    return TorchCategorical(q)


def _random_share(exploration: Exploration, timestep: int, n: int = 4000) -> float:
    actions, _ = exploration.get_exploration_action(
        action_distribution=_q_values(n), timestep=timestep
    )
    return float(np.mean(np.asarray(actions) != 2)) * 4 / 3  # a random action is 2 in 1/4


def test_epsilon_greedy_anneals_linearly_then_holds():
    np.random.seed(0)
    DISCRETE.seed(0)
    exp = _make(EpsilonGreedy, initial_epsilon=1.0, final_epsilon=0.1, epsilon_timesteps=1000)
    assert _random_share(exp, 0) == pytest.approx(1.0, abs=0.05)
    assert exp.get_info()["cur_epsilon"] == pytest.approx(1.0)
    assert _random_share(exp, 500) == pytest.approx(0.55, abs=0.05)
    assert exp.epsilon == pytest.approx(0.55)
    assert _random_share(exp, 5000) == pytest.approx(0.1, abs=0.03)
    assert exp.epsilon == pytest.approx(0.1)


def test_epsilon_greedy_explore_false_is_greedy_and_state_round_trips():
    exp = _make(EpsilonGreedy, initial_epsilon=1.0, final_epsilon=0.0, epsilon_timesteps=100)
    actions, logp = exp.get_exploration_action(
        action_distribution=_q_values(50), timestep=0, explore=False
    )
    np.testing.assert_array_equal(np.asarray(actions), [2] * 50)
    np.testing.assert_array_equal(np.asarray(logp), np.zeros(50))
    exp.get_exploration_action(action_distribution=_q_values(1), timestep=60)
    restored = _make(EpsilonGreedy, initial_epsilon=1.0, final_epsilon=0.0, epsilon_timesteps=100)
    restored.set_state(exp.get_state())
    assert restored.epsilon == pytest.approx(0.4)


def test_per_worker_epsilons_follow_apex_spread():
    epsilons = [
        _make(PerWorkerEpsilonGreedy, num_workers=4, worker_index=i).epsilon for i in range(5)
    ]
    assert epsilons[0] == 0.0  # the local worker acts greedily
    assert epsilons[1] == pytest.approx(0.4)
    assert epsilons[4] == pytest.approx(0.4**8)
    assert epsilons[1] > epsilons[2] > epsilons[3] > epsilons[4]
    alone = _make(PerWorkerEpsilonGreedy, initial_epsilon=1.0, epsilon_timesteps=10)
    assert alone.epsilon == 1.0  # no remote workers: a plain EpsilonGreedy schedule


def test_soft_q_samples_boltzmann_and_is_greedy_without_explore():
    torch.manual_seed(0)
    q = torch.tensor([[1.0, 0.0, 0.0, 0.0]]).repeat(20000, 1)
    exp = _make(SoftQ, temperature=0.5)
    actions, logp = exp.get_exploration_action(action_distribution=TorchCategorical(q), timestep=0)
    expected = torch.softmax(q[0] / 0.5, -1).numpy()
    counts = np.bincount(np.asarray(actions), minlength=4) / len(q)
    np.testing.assert_allclose(counts, expected, atol=0.01)
    np.testing.assert_allclose(np.asarray(logp), np.log(expected[np.asarray(actions)]), rtol=1e-4)
    greedy, _ = exp.get_exploration_action(
        action_distribution=TorchCategorical(q[:3]), timestep=0, explore=False
    )
    np.testing.assert_array_equal(np.asarray(greedy), [0, 0, 0])
    with pytest.raises(ConfigError, match="temperature"):
        _make(SoftQ, temperature=0)


def _means(n: int, value: float = 0.5) -> TorchDiagGaussian:
    return TorchDiagGaussian(torch.cat([torch.full((n, 2), value), torch.zeros(n, 2)], -1))


def test_gaussian_noise_random_phase_then_scaled_noise():
    np.random.seed(0)
    BOX.seed(0)
    exp = _make(
        GaussianNoise,
        BOX,
        random_timesteps=10,
        stddev=0.1,
        initial_scale=1.0,
        final_scale=0.5,
        scale_timesteps=100,
    )
    early, _ = exp.get_exploration_action(action_distribution=_means(4000), timestep=0)
    assert np.asarray(early).std() == pytest.approx(4 / np.sqrt(12), rel=0.05)  # uniform [-2, 2]
    later, _ = exp.get_exploration_action(action_distribution=_means(4000), timestep=50)
    assert exp.scale == pytest.approx(0.75)
    assert np.asarray(later).mean() == pytest.approx(0.5, abs=0.01)
    assert np.asarray(later).std() == pytest.approx(0.075, rel=0.05)
    exact, _ = exp.get_exploration_action(action_distribution=_means(3), timestep=50, explore=False)
    np.testing.assert_array_equal(np.asarray(exact), np.full((3, 2), 0.5))
    clipped, _ = exp.get_exploration_action(action_distribution=_means(100, 1.99), timestep=50)
    assert np.asarray(clipped).max() <= 2.0
    with pytest.raises(ConfigError, match="Box action space"):
        _make(GaussianNoise, DISCRETE)


class _DeviceTensor:
    """Stands for a torch tensor on a GPU: numpy cannot read it; ``.cpu()`` copies it back."""

    def __init__(self, values: torch.Tensor):
        self._values = values

    def __array__(self, *args, **kwargs):
        raise TypeError("can't convert cuda:0 device type tensor to numpy")

    def detach(self) -> _DeviceTensor:
        return self

    def cpu(self) -> torch.Tensor:
        return self._values


class _OnTheGpu:
    """A distribution whose deterministic sample is a :class:`_DeviceTensor`."""

    def __init__(self, dist):
        self.inputs = dist.inputs
        self._actions = dist.deterministic_sample()

    def deterministic_sample(self) -> _DeviceTensor:
        return _DeviceTensor(self._actions)


@pytest.mark.parametrize("name", ["EpsilonGreedy", "GaussianNoise"])
def test_greedy_actions_come_back_from_the_gpu(name):
    exploration, dist = {
        "EpsilonGreedy": (_make(EpsilonGreedy, initial_epsilon=0.5), _q_values(50)),
        "GaussianNoise": (_make(GaussianNoise, BOX, random_timesteps=0, stddev=0.0), _means(50)),
    }[name]
    greedy = dist.deterministic_sample().numpy()
    for explore in (True, False):
        actions, _ = exploration.get_exploration_action(
            action_distribution=_OnTheGpu(dist), timestep=0, explore=explore
        )
        assert isinstance(actions, np.ndarray) and actions.shape == greedy.shape
        assert (actions == greedy).any() and (explore or (actions == greedy).all())


def test_ou_noise_is_correlated_and_its_state_round_trips():
    np.random.seed(1)
    exp = _make(OrnsteinUhlenbeckNoise, BOX, random_timesteps=0, initial_scale=1.0)
    offsets = []
    for t in range(200):
        actions, _ = exp.get_exploration_action(action_distribution=_means(1, 0.0), timestep=t)
        offsets.append(np.asarray(actions)[0, 0])
    offsets = np.asarray(offsets)
    lag1 = np.corrcoef(offsets[:-1], offsets[1:])[0, 1]
    assert lag1 > 0.6  # white noise would be ~0
    restored = _make(OrnsteinUhlenbeckNoise, BOX, random_timesteps=0)
    restored.set_state(exp.get_state())
    np.testing.assert_array_equal(restored.ou_state, exp.ou_state)
    assert restored.last_timestep == 199


class _LinearPolicy:
    """Just enough of a policy for ParameterNoise: numpy weights, Q = obs @ w, and the order of
    calls a backend makes (before_compute_actions, forward, get_exploration_action)."""

    def __init__(self, exploration: Exploration) -> None:
        self.weights = {"w": np.eye(4, dtype=np.float32)}
        self.global_timestep = 7
        self.exploration = exploration
        self.weights_seen_by_forward: list[np.ndarray] = []

    def get_weights(self) -> dict:
        return {k: v.copy() for k, v in self.weights.items()}

    def set_weights(self, weights: dict) -> None:
        self.weights = {k: np.asarray(v) for k, v in weights.items()}

    def compute_actions(self, obs, explore=True):
        self.exploration.before_compute_actions(explore=explore)
        self.weights_seen_by_forward.append(self.weights["w"].copy())
        q = np.asarray(obs, np.float32) @ self.weights["w"]
        actions, _ = self.exploration.get_exploration_action(
            action_distribution=TorchCategorical(torch.as_tensor(q)), timestep=None, explore=explore
        )
        self.global_timestep += len(obs)
        return np.asarray(actions), [], {"action_dist_inputs": q}


def test_parameter_noise_is_on_only_for_exploring_forward_passes():
    np.random.seed(0)
    exp = _make(ParameterNoise, initial_stddev=0.5, random_timesteps=0)
    policy = _LinearPolicy(exp)
    clean = policy.get_weights()["w"]
    exp.on_episode_start(policy)
    np.testing.assert_array_equal(policy.weights["w"], clean)
    obs = np.random.normal(size=(3, 4))
    policy.compute_actions(obs, explore=True)
    noisy = policy.weights_seen_by_forward[-1]
    assert np.abs(noisy - clean).std() == pytest.approx(0.5, rel=0.5)
    np.testing.assert_allclose(policy.weights["w"], clean, atol=1e-6)  # clean for learning
    policy.compute_actions(obs, explore=True)
    np.testing.assert_allclose(policy.weights_seen_by_forward[-1], noisy, atol=1e-6)  # same noise
    policy.compute_actions(obs, explore=False)
    np.testing.assert_allclose(policy.weights_seen_by_forward[-1], clean, atol=1e-6)
    exp.on_episode_start(policy)
    policy.compute_actions(obs, explore=True)
    assert not np.allclose(policy.weights_seen_by_forward[-1], noisy)  # new episode, new noise


def test_parameter_noise_adapts_stddev_towards_target_distance():
    from plugrl import SampleBatch

    np.random.seed(0)
    exp = _make(ParameterNoise, initial_stddev=1.0, random_timesteps=0)
    policy = _LinearPolicy(exp)
    obs = np.random.normal(size=(32, 4)).astype(np.float32)
    exp.on_episode_start(policy)
    _, _, fetches = policy.compute_actions(obs, explore=True)
    batch = SampleBatch({"obs": obs, "action_dist_inputs": fetches["action_dist_inputs"]})
    exp.postprocess_trajectory(policy, batch)
    assert exp.stddev == pytest.approx(1 / 1.01)  # far from the clean policy: shrink
    assert policy.global_timestep == 7 + 32  # the measurement is not counted as experience
    same = SampleBatch({"obs": obs, "action_dist_inputs": obs @ np.eye(4, dtype=np.float32)})
    exp.postprocess_trajectory(policy, same)
    assert exp.stddev == pytest.approx(1.0)  # identical to the clean policy: grow
    assert exp.get_state() == {"stddev": pytest.approx(1.0), "last_timestep": 0}


@pytest.mark.parametrize(
    "name", ["EpsilonGreedy", "PerWorkerEpsilonGreedy", "SoftQ", "ParameterNoise"]
)
def test_registered_by_name_and_usable_by_a_torch_policy(name):
    from plugrl_ppo import PPOTorchPolicy

    obs_space = spaces.Box(-1.0, 1.0, (3,), np.float32)
    policy = PPOTorchPolicy(obs_space, spaces.Discrete(2), {"exploration_config": {"type": name}})
    actions, _, _ = policy.compute_actions(np.zeros((5, 3), np.float32))
    assert np.asarray(actions).shape == (5,)
    # at timestep 0 every one of them explores: both actions for one observation
    explored, _, _ = policy.compute_actions(np.zeros((64, 3), np.float32), timestep=0)
    assert set(np.asarray(explored).tolist()) == {0, 1}
    greedy, _, fetches = policy.compute_actions(np.zeros((5, 3), np.float32), explore=False)
    assert len(set(np.asarray(greedy).tolist())) == 1
    np.testing.assert_array_equal(greedy, fetches["action_dist_inputs"].argmax(axis=1))
