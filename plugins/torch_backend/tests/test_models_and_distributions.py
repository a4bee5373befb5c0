"""Torch action distributions and models: shapes, reference values, weight names, the catalog."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from gymnasium import spaces
from torch import nn

from plugrl import RolloutWorker
from plugrl.env.creator import make_env_creator
from plugrl.errors import ConfigError, EnvError
from plugrl.models import ModelCatalog
from plugrl_ppo import DEFAULT_CONFIG, PPOTorchPolicy
from plugrl_torch.distributions import (
    TorchCategorical,
    TorchDiagGaussian,
    TorchMultiCategorical,
    get_action_dist,
)
from plugrl_torch.models import FullyConnectedNetwork, TorchModelV2, get_model

B = 5
SMALL = {"fcnet_hiddens": [8, 8]}


def _dist_pair(space: spaces.Space) -> tuple[type, torch.Tensor, torch.Tensor]:
    dist_class, n = get_action_dist(space, {})
    torch.manual_seed(0)
    return dist_class, torch.randn(B, n), torch.randn(B, n)


@pytest.mark.parametrize(
    ("space", "action_shape", "dtype"),
    [
        (spaces.Discrete(4), (B,), torch.int64),
        (spaces.MultiDiscrete([3, 2, 4]), (B, 3), torch.int64),
        (spaces.MultiDiscrete([[3, 2], [2, 2]]), (B, 2, 2), torch.int64),
        (spaces.Box(-1.0, 1.0, (3,)), (B, 3), torch.float32),
        (spaces.Box(-1.0, 1.0, (2, 3)), (B, 2, 3), torch.float32),
    ],
)
def test_distribution_shapes(space, action_shape, dtype):
    dist_class, inputs, other_inputs = _dist_pair(space)
    dist = dist_class(inputs, None)
    other = dist_class(other_inputs, None)
    actions = dist.sample()
    assert actions.shape == action_shape and actions.dtype == dtype
    assert dist.deterministic_sample().shape == action_shape
    for values in (dist.logp(actions), dist.sampled_action_logp(), dist.entropy(), dist.kl(other)):
        assert values.shape == (B,)
    assert torch.allclose(dist.kl(dist), torch.zeros(B), atol=1e-6)
    # Actions coming back from a numpy batch are accepted too.
    assert torch.allclose(dist.logp(actions.numpy()), dist.logp(actions))


def test_categorical_matches_torch_reference():
    logits = torch.tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    dist = TorchCategorical(logits)
    reference = torch.distributions.Categorical(logits=logits)
    actions = torch.tensor([1, 0])
    assert torch.equal(dist.deterministic_sample(), torch.tensor([1, 2]))
    assert torch.allclose(dist.logp(actions), reference.log_prob(actions))
    assert torch.allclose(dist.entropy(), reference.entropy())


def test_diag_gaussian_matches_torch_reference():
    mean, log_std = torch.tensor([[0.5, -1.0]]), torch.tensor([[0.0, np.log(2.0)]])
    dist = TorchDiagGaussian(torch.cat([mean, log_std], dim=-1))
    reference = torch.distributions.Normal(mean, log_std.exp())
    actions = torch.tensor([[1.0, 0.0]])
    assert torch.equal(dist.deterministic_sample(), mean)
    assert torch.allclose(dist.logp(actions), reference.log_prob(actions).sum(-1))
    assert torch.allclose(dist.entropy(), reference.entropy().sum(-1))


def test_multi_categorical_two_arg_form_and_sums():
    space = spaces.MultiDiscrete([3, 2])
    dist_class, n = get_action_dist(space, {})
    assert n == 5 and issubclass(dist_class, TorchMultiCategorical)
    assert TorchMultiCategorical.for_space(space) is dist_class
    logits = torch.tensor([[0.0, 1.0, 2.0, 3.0, -1.0]])
    dist = dist_class(logits, None)
    assert torch.equal(dist.deterministic_sample(), torch.tensor([[2, 0]]))
    first = torch.distributions.Categorical(logits=logits[:, :3])
    second = torch.distributions.Categorical(logits=logits[:, 3:])
    expected = first.log_prob(torch.tensor([1])) + second.log_prob(torch.tensor([1]))
    assert torch.allclose(dist.logp(torch.tensor([[1, 1]])), expected)
    # Rebuilt from its type (as explorations do) and after a pickle round trip.
    assert type(dist)(logits).nvec == (3, 2)
    assert pickle.loads(pickle.dumps(dist_class)) is dist_class
    with pytest.raises(TypeError, match="for_space"):
        TorchMultiCategorical(logits)


def test_unsupported_space_is_an_env_error():
    with pytest.raises(EnvError, match="Text.*Discrete, MultiDiscrete and Box"):
        get_action_dist(spaces.Text(5), {})
    with pytest.raises(EnvError, match="start"):
        get_action_dist(spaces.Discrete(3, start=1), {})


def test_custom_action_dist():
    class Fixed(TorchCategorical):
        @staticmethod
        def required_model_output_shape(action_space, model_config):
            return 7

    ModelCatalog.register_custom_action_dist("test_fixed_dist", Fixed)
    assert get_action_dist(spaces.Discrete(2), {"custom_action_dist": "test_fixed_dist"}) == (
        Fixed,
        7,
    )


def _forward(model: TorchModelV2, obs_space: spaces.Box) -> tuple[torch.Tensor, torch.Tensor]:
    obs = np.stack([obs_space.sample() for _ in range(B)])
    out, state = model.from_batch({"obs": obs})
    assert state == []
    return out, model.value_function()


OBS = spaces.Box(-1.0, 1.0, (2, 2))


@pytest.mark.parametrize("vf_share_layers", [True, False])
def test_fcnet_shapes_and_names(vf_share_layers):
    config = {**SMALL, "vf_share_layers": vf_share_layers}
    model = get_model(OBS, spaces.Discrete(3), 3, config)
    assert isinstance(model, FullyConnectedNetwork) and model.get_initial_state() == []
    out, value = _forward(model, OBS)
    assert out.shape == (B, 3) and value.shape == (B,)
    names = {"policy_hidden.0", "policy_hidden.1", "policy_out", "value_out"}
    if not vf_share_layers:
        names |= {"value_hidden.0", "value_hidden.1"}
    assert set(model.state_dict()) == {f"{n}.{p}" for n in names for p in ("weight", "bias")}
    assert model.state_dict()["policy_hidden.0.weight"].shape == (8, 4)


def test_fcnet_free_log_std():
    action_space = spaces.Box(-1.0, 1.0, (2,))
    _, num_outputs = get_action_dist(action_space, {})
    model = get_model(OBS, action_space, num_outputs, {**SMALL, "free_log_std": True})
    out, value = _forward(model, OBS)
    assert out.shape == (B, 4) and value.shape == (B,)
    assert model.state_dict()["policy_out.weight"].shape == (2, 8)
    assert model.state_dict()["log_std"].shape == (2,)
    assert torch.equal(out[:, 2:], torch.zeros(B, 2))


def test_fcnet_no_final_linear():
    model = get_model(OBS, spaces.Discrete(3), 3, {**SMALL, "no_final_linear": True})
    out, _ = _forward(model, OBS)
    assert out.shape == (B, 3)
    assert "policy_out.weight" not in model.state_dict()
    assert model.state_dict()["policy_hidden.1.weight"].shape == (3, 8)


@pytest.mark.parametrize(
    "config",
    [
        {**SMALL, "vf_share_layers": False},
        {**SMALL, "vf_share_layers": True},
        {"fcnet_hiddens": [], "vf_share_layers": False},
        {"fcnet_hiddens": [6, 7, 5], "fcnet_activation": "relu", "free_log_std": True},
    ],
)
def test_acting_without_gradients_joins_the_branches_and_agrees(config):
    action_space = spaces.Box(-1.0, 1.0, (3,))
    _, num_outputs = get_action_dist(action_space, {})
    model = get_model(OBS, action_space, num_outputs, config)
    obs = torch.randn(B, *OBS.shape)
    # fused Adam leaves the weights' version counters as they were
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1, fused=True)
    for _ in range(2):  # the joined weights follow an optimizer step
        out, _ = model({"obs": obs}, [], None)
        value = model.value_function()
        (out.sum() + value.sum()).backward()
        with torch.inference_mode():
            acting_out, _ = model({"obs": obs}, [], None)
            acting_value = model.value_function()
        assert model._fused.available
        torch.testing.assert_close(acting_out, out.detach())
        torch.testing.assert_close(acting_value, value.detach())
        optimizer.step()
    # and a load_state_dict
    model.load_state_dict({k: torch.zeros_like(v) for k, v in model.state_dict().items()})
    with torch.inference_mode():
        acting_out, _ = model({"obs": obs}, [], None)
        assert not acting_out.any() and not model.value_function().any()


def test_a_subclass_that_swaps_a_layer_acts_with_it():
    class WiderHead(FullyConnectedNetwork):
        def __init__(self, *args):
            super().__init__(*args)
            self.policy_out = nn.Linear(8, 3)

    model = WiderHead(OBS, spaces.Discrete(3), 3, SMALL, "wider")
    obs = torch.randn(B, *OBS.shape)
    with torch.no_grad():
        expected, _ = model({"obs": obs}, [], None)
    with torch.inference_mode():
        acting, _ = model({"obs": obs}, [], None)
    torch.testing.assert_close(acting, expected)


def test_fcnet_rejects_unknown_activation():
    with pytest.raises(ConfigError, match="relu"):
        get_model(OBS, spaces.Discrete(3), 3, {**SMALL, "fcnet_activation": "rleu"})


class _RLlibStyle(TorchModelV2, nn.Module):
    def __init__(self, obs_space, action_space, num_outputs, model_config, name):
        TorchModelV2.__init__(self, obs_space, action_space, num_outputs, model_config, name)
        nn.Module.__init__(self)
        self.size = model_config["custom_model_config"]["size"]
        self.out = nn.Linear(4, num_outputs)

    def forward(self, input_dict, state, seq_lens):
        return self.out(input_dict["obs"].reshape(-1, 4)), state


class _KwargStyle(_RLlibStyle):
    def __init__(self, obs_space, action_space, num_outputs, model_config, name, size):
        super().__init__(obs_space, action_space, num_outputs, model_config, name)
        self.size = size * 10


@pytest.mark.parametrize(("model_class", "size"), [(_RLlibStyle, 2), (_KwargStyle, 20)])
def test_custom_model(model_class, size):
    ModelCatalog.register_custom_model("test_custom_model", model_class)
    config = {"custom_model": "test_custom_model", "custom_model_config": {"size": 2}}
    model = get_model(OBS, spaces.Discrete(3), 3, config, name="pi")
    assert type(model) is model_class and model.size == size and model.name == "pi"
    out, _ = model.from_batch({"obs": torch.zeros(B, 2, 2)})
    assert out.shape == (B, 3)


def test_custom_model_must_be_a_torch_model():
    ModelCatalog.register_custom_model("test_not_torch", dict)
    with pytest.raises(ConfigError, match="TorchModelV2"):
        get_model(OBS, spaces.Discrete(3), 3, {"custom_model": "test_not_torch"})


def test_categorical_samples_follow_the_probabilities():
    torch.manual_seed(0)
    probs = torch.tensor([0.2, 0.5, 0.3])
    dist = TorchCategorical(probs.log().expand(20000, 3))
    counts = torch.bincount(dist.sample(), minlength=3).float() / 20000
    assert torch.allclose(counts, probs, atol=0.015)
    assert torch.allclose(dist.sampled_action_logp(), probs.log()[dist._last_sample])
    with pytest.raises(RuntimeError, match="needs a call to sample"):
        TorchCategorical(probs.log().expand(2, 3)).sampled_action_logp()


def test_the_drawn_actions_log_probabilities_come_from_logp():
    class Halved(TorchCategorical):  # a subclass's logp serves its drawn actions too
        def logp(self, actions):
            return super().logp(actions) / 2

    dist = Halved(torch.zeros(4, 2))
    dist.sample()
    assert torch.allclose(dist.sampled_action_logp(), torch.full((4,), np.log(0.5) / 2))
    # indices given as another dtype or as a list are converted, as before
    assert torch.allclose(dist.logp([0, 1, 1, 0]), dist.logp(torch.tensor([0, 1, 1, 0.0])))


class _Dropout(TorchModelV2, nn.Module):
    """Dropout before the outputs; records the mode of each forward pass."""

    def __init__(self, obs_space, action_space, num_outputs, model_config, name):
        TorchModelV2.__init__(self, obs_space, action_space, num_outputs, model_config, name)
        nn.Module.__init__(self)
        self.hidden = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Dropout(0.5))
        self.out, self.vf = nn.Linear(16, num_outputs), nn.Linear(16, 1)
        self.modes: list[bool] = []

    def forward(self, input_dict, state, seq_lens):
        self.modes.append(self.training)
        self._features = self.hidden(input_dict["obs"])
        return self.out(self._features), state

    def value_function(self):
        return self.vf(self._features).squeeze(-1)


def test_policies_act_in_eval_mode_and_learn_in_training_mode():
    """As RLlib's torch policies: dropout is off (and batch norm uses its running statistics)
    when acting, on when learning."""
    ModelCatalog.register_custom_model("test_dropout", _Dropout)
    config = {**DEFAULT_CONFIG, "model": {"custom_model": "test_dropout"}, "seed": 0}
    config.update(num_envs_per_worker=2, rollout_fragment_length=16, sgd_minibatch_size=16)
    worker = RolloutWorker(make_env_creator("CartPole-v1"), PPOTorchPolicy, config)
    policy = worker.get_policy()
    model = policy.model
    obs = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    outputs = [policy.compute_actions(obs, explore=False)[2] for _ in range(2)]
    for key in ("action_dist_inputs", "vf_preds"):
        np.testing.assert_array_equal(outputs[0][key], outputs[1][key])  # no dropout
    batch = worker.sample()
    assert not any(model.modes)
    model.modes.clear()
    policy.learn_on_batch(batch)
    assert model.modes and all(model.modes)
    model.modes.clear()
    worker.sample()  # acting again: back in eval mode
    assert model.modes and not any(model.modes)
