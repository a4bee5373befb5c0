"""Explorations: StochasticSampling, Random, both call forms, user subclasses by class and path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from plugrl import ConfigError, Exploration
from plugrl_exploration import Random, StochasticSampling
from plugrl_ppo import PPOTorchPolicy
from plugrl_torch import TorchCategorical

SPACE = spaces.Discrete(2)
OBS_SPACE = spaces.Box(-1.0, 1.0, (3,), np.float32)


def _make(cls: type, **kwargs) -> Exploration:
    return cls(SPACE, framework="torch", policy_config={}, model=None, **kwargs)


def _logits(n: int, favoured: int = 1) -> torch.Tensor:
    logits = torch.full((n, 2), -10.0)
    logits[:, favoured] = 10.0
    return logits


def test_stochastic_sampling_explore_false_is_argmax():
    exp = _make(StochasticSampling)
    dist = TorchCategorical(torch.tensor([[0.0, 5.0], [3.0, 0.0], [1.0, 2.0]]))
    actions, logp = exp.get_exploration_action(action_distribution=dist, timestep=0, explore=False)
    np.testing.assert_array_equal(np.asarray(actions), [1, 0, 1])
    np.testing.assert_array_equal(np.asarray(logp), [0, 0, 0])


def test_stochastic_sampling_samples_from_distribution():
    torch.manual_seed(0)
    exp = _make(StochasticSampling)
    dist = TorchCategorical(torch.zeros(4000, 2))
    actions, logp = exp.get_exploration_action(action_distribution=dist, timestep=0)
    assert 0.45 < np.asarray(actions).mean() < 0.55
    np.testing.assert_allclose(np.asarray(logp), np.log(0.5), rtol=1e-5)


def test_random_timesteps_gives_uniform_actions_early():
    SPACE.seed(0)
    exp = _make(StochasticSampling, random_timesteps=100)
    early, logp = exp.get_exploration_action(
        action_distribution=TorchCategorical(_logits(2000)), timestep=10
    )
    assert 0.4 < np.asarray(early).mean() < 0.6
    # logp is the policy's log-likelihood of the random actions
    expected = np.where(np.asarray(early) == 1, 0.0, -20.0)
    np.testing.assert_allclose(np.asarray(logp), expected, atol=1e-3)
    late, _ = exp.get_exploration_action(
        action_distribution=TorchCategorical(_logits(2000)), timestep=100
    )
    assert np.asarray(late).mean() == 1.0
    assert exp.get_state() == {"last_timestep": 100}


def test_random_exploration():
    SPACE.seed(1)
    exp = _make(Random)
    acts, _ = exp.get_exploration_action(
        action_distribution=TorchCategorical(_logits(2000)), timestep=None
    )
    assert 0.4 < np.asarray(acts).mean() < 0.6
    det, _ = exp.get_exploration_action(
        action_distribution=TorchCategorical(_logits(5, 0)), timestep=None, explore=False
    )
    np.testing.assert_array_equal(np.asarray(det), [0] * 5)


def test_old_positional_call_form():
    exp = _make(StochasticSampling)
    logits = torch.tensor([[0.0, 5.0], [3.0, 0.0]])
    actions, _ = exp.get_exploration_action(logits, TorchCategorical, None, False, 0)
    np.testing.assert_array_equal(np.asarray(actions), [1, 0])
    actions, _ = exp.get_exploration_action(
        distribution_inputs=logits, action_dist_class=TorchCategorical, explore=False
    )
    np.testing.assert_array_equal(np.asarray(actions), [1, 0])


class OldStyleExploration(Exploration):
    """A user exploration written against the older positional signature: always action 0."""

    calls: list = []

    def get_exploration_action(
        self, distribution_inputs, action_dist_class, model=None, explore=True, timestep=None
    ):
        OldStyleExploration.calls.append((tuple(distribution_inputs.shape), explore, timestep))
        dist = action_dist_class(distribution_inputs, model)
        actions = torch.zeros(distribution_inputs.shape[0], dtype=torch.long)
        return actions, dist.logp(actions)


class NewStyleExploration(Exploration):
    """A user exploration with the keyword form and a constructor argument."""

    def __init__(self, action_space, *, fixed_action: int = 1, **kwargs):
        super().__init__(action_space, **kwargs)
        self.fixed_action = fixed_action

    def get_exploration_action(self, *, action_distribution, timestep, explore=True):
        n = action_distribution.inputs.shape[0]
        actions = torch.full((n,), self.fixed_action, dtype=torch.long)
        return actions, action_distribution.logp(actions)


def _policy(exploration_config: dict) -> PPOTorchPolicy:
    return PPOTorchPolicy(
        OBS_SPACE,
        SPACE,
        {"model": {"fcnet_hiddens": [8]}, "exploration_config": exploration_config},
    )


def test_old_style_subclass_works_inside_a_policy():
    OldStyleExploration.calls = []
    policy = _policy({"type": OldStyleExploration})
    actions, _, extra = policy.compute_actions(
        np.zeros((4, 3), np.float32), explore=True, timestep=9
    )
    np.testing.assert_array_equal(actions, [0, 0, 0, 0])
    assert OldStyleExploration.calls == [((4, 2), True, 9)]
    assert extra["action_logp"].shape == (4,)
    # and called directly with the old positional form too
    exp = _make(OldStyleExploration)
    acts, _ = exp.get_exploration_action(torch.zeros(3, 2), TorchCategorical, None, True, 1)
    np.testing.assert_array_equal(np.asarray(acts), [0, 0, 0])


def test_subclass_by_dotted_path():
    path = f"{__name__}.NewStyleExploration"
    policy = _policy({"type": path, "fixed_action": 1})
    assert type(policy.exploration).__name__ == "NewStyleExploration"
    actions, _, _ = policy.compute_actions(np.zeros((3, 3), np.float32))
    np.testing.assert_array_equal(actions, [1, 1, 1])
    policy = _policy({"type": f"{__name__}:NewStyleExploration", "fixed_action": 0})
    np.testing.assert_array_equal(policy.compute_actions(np.zeros((2, 3), np.float32))[0], [0, 0])


def test_subclass_unknown_key_is_refused():
    with pytest.raises(ConfigError, match="'fixed_actions'.*Did you mean: 'fixed_action'"):
        _policy({"type": NewStyleExploration, "fixed_actions": 1})


def test_bad_dotted_path():
    with pytest.raises(ConfigError, match="cannot be imported"):
        _policy({"type": "no_such_pkg_xyz.Exploration"})


def test_policy_explore_false_is_deterministic():
    policy = _policy({"type": "StochasticSampling"})
    obs = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)
    a1 = policy.compute_actions(obs, explore=False)[0]
    a2 = policy.compute_actions(obs, explore=False)[0]
    np.testing.assert_array_equal(a1, a2)
    with torch.no_grad():
        logits, _ = policy.model({"obs": torch.as_tensor(obs)}, [], None)
    np.testing.assert_array_equal(a1, logits.argmax(-1).numpy())
