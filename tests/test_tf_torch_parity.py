"""TF and torch backends agree: weight names and shapes, forward passes (fully connected and
vision networks), distributions, PPO's and A3C's losses and gradients on the same weights and
batch, and checkpoints restored across frameworks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import tensorflow as tf
import torch
from gymnasium import spaces

from plugrl import RolloutWorker, SampleBatch
from plugrl.env.creator import make_env_creator
from plugrl_a3c import A2C_DEFAULT_CONFIG, A2CTrainer, A3CTFPolicy, A3CTorchPolicy
from plugrl_a3c.testing import TINY_CONFIG as A3C_TINY_CONFIG
from plugrl_ppo import DEFAULT_CONFIG, PPOTFPolicy, PPOTorchPolicy, PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG
from plugrl_tf import get_action_dist as tf_action_dist
from plugrl_tf import get_model as tf_model
from plugrl_torch import get_action_dist as torch_action_dist
from plugrl_torch import get_model as torch_model

# float32 tolerances: the frameworks sum in different orders (and TF uses oneDNN kernels)
RTOL, ATOL = 1e-4, 1e-5
OBS = spaces.Box(-1.0, 1.0, (2, 3))

CASES = {
    "discrete": (spaces.Discrete(3), {"fcnet_hiddens": [8, 8]}),
    "shared trunk, relu": (
        spaces.Discrete(3),
        {"fcnet_hiddens": [8], "vf_share_layers": True, "fcnet_activation": "relu"},
    ),
    "multi-discrete, no final linear": (
        spaces.MultiDiscrete([3, 2]),
        {"fcnet_hiddens": [8, 8], "no_final_linear": True},
    ),
    "box, free log std": (
        spaces.Box(-1.0, 1.0, (2,)),
        {"fcnet_hiddens": [8], "free_log_std": True, "fcnet_activation": "elu"},
    ),
    "no hidden layers": (spaces.Discrete(2), {"fcnet_hiddens": []}),
}


def _torch_weights(model: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("case", list(CASES))
def test_default_models_have_the_same_weights_and_outputs(case):
    action_space, config = CASES[case]
    obs = np.random.default_rng(1).uniform(-1, 1, (6, *OBS.shape)).astype(np.float32)
    _assert_same_model(OBS, action_space, config, obs)


@pytest.mark.parametrize(
    "config",
    [
        {"fcnet_hiddens": [8]},
        {"fcnet_hiddens": [], "vf_share_layers": True, "conv_activation": "elu"},
        {"fcnet_hiddens": [8], "conv_filters": [[4, [3, 2], 2], [6, [2, 2], 1]]},
    ],
)
def test_vision_networks_have_the_same_weights_and_outputs(config):
    images = spaces.Box(0, 255, (10, 10, 3), np.uint8)
    obs = np.random.default_rng(1).integers(0, 256, (6, 10, 10, 3)).astype(np.float32)
    _assert_same_model(images, spaces.Discrete(3), config, obs)


def _assert_same_model(obs_space, action_space, config, obs):
    _, num_outputs = torch_action_dist(action_space, config)
    pt = torch_model(obs_space, action_space, num_outputs, config)
    tfm = tf_model(obs_space, action_space, num_outputs, config)
    weights = _torch_weights(pt)
    assert {k: v.shape for k, v in weights.items()} == {
        k: tuple(v.shape) for k, v in tfm.variables(as_dict=True).items()
    }
    weights = {k: v + np.random.default_rng(0).normal(0, 0.1, v.shape) for k, v in weights.items()}
    pt.load_state_dict({k: torch.as_tensor(v, dtype=torch.float32) for k, v in weights.items()})
    for name, var in tfm.variables(as_dict=True).items():
        var.assign(weights[name])
    out_pt, _ = pt({"obs": torch.as_tensor(obs), "is_training": False}, [], None)
    out_tf, _ = tfm({"obs": obs, "is_training": False})
    np.testing.assert_allclose(out_tf, out_pt.detach(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(tfm.value_function(), pt.value_function().detach(), RTOL, ATOL)


@pytest.mark.parametrize(
    "case", ["discrete", "multi-discrete, no final linear", "box, free log std"]
)
def test_distributions_agree(case):
    action_space, config = CASES[case]
    pt_class, n = torch_action_dist(action_space, config)
    tf_class, _ = tf_action_dist(action_space, config)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 7, n)).astype(np.float32)
    pt, pt_other = pt_class(torch.as_tensor(a)), pt_class(torch.as_tensor(b))
    tfd, tf_other = tf_class(a), tf_class(b)
    actions = pt.sample()
    np.testing.assert_allclose(tfd.logp(actions.numpy()), pt.logp(actions), RTOL, ATOL)
    np.testing.assert_allclose(tfd.entropy(), pt.entropy(), RTOL, ATOL)
    np.testing.assert_allclose(tfd.kl(tf_other), pt.kl(pt_other), RTOL, ATOL)
    np.testing.assert_allclose(tfd.deterministic_sample(), pt.deterministic_sample(), RTOL, ATOL)


def _ppo_config(**overrides) -> dict:
    return {
        **DEFAULT_CONFIG,
        "model": {"fcnet_hiddens": [16, 16]},
        "num_envs_per_worker": 2,
        "rollout_fragment_length": 64,
        "seed": 3,
        "kl_coeff": 0.3,
        "lr": 0.01,
        "entropy_coeff": 0.01,
        "vf_clip_param": 2.0,
        **overrides,
    }


# at coefficient 0 torch computes the KL and the entropy without a graph and leaves them out
# of the total (TF adds them times 0): the same loss, gradients and reported terms
NO_KL_OR_ENTROPY = {"kl_coeff": 0.0, "entropy_coeff": 0.0}


@pytest.mark.parametrize(
    ("grad_clip", "coefficients"),
    [(None, {}), (0.5, {}), (None, NO_KL_OR_ENTROPY)],
    ids=["unclipped", "clipped", "kl-and-entropy-coefficients-0"],
)
def test_ppo_loss_and_gradients_agree(grad_clip, coefficients):
    config = _ppo_config(grad_clip=grad_clip, **coefficients)
    worker = RolloutWorker(make_env_creator("CartPole-v1"), PPOTorchPolicy, config)
    batch = worker.sample()
    torch_policy = worker.get_policy()
    torch_policy.learn_on_batch(batch.copy())  # move away from the sampling policy: kl > 0
    tf_policy = PPOTFPolicy(
        torch_policy.observation_space, torch_policy.action_space, {**config, "framework": "tf"}
    )
    tf_policy.set_weights(torch_policy.get_weights())

    stats = _assert_losses_and_gradients_agree(
        torch_policy,
        tf_policy,
        batch,
        ("total_loss", "policy_loss", "vf_loss", "kl", "entropy", "vf_explained_var"),
    )
    assert stats["kl"] > 1e-6


def _a3c_config(**overrides) -> dict:
    return {
        **A2C_DEFAULT_CONFIG,
        "model": {"fcnet_hiddens": [16, 16]},
        "num_envs_per_worker": 2,
        "rollout_fragment_length": 32,
        "seed": 3,
        **overrides,
    }


@pytest.mark.parametrize(
    ("grad_clip", "tracing", "entropy_coeff"),
    [(None, False, 0.05), (0.5, True, 0.05), (None, True, 0.0)],
)
def test_a3c_loss_and_gradients_agree(grad_clip, tracing, entropy_coeff):
    config = _a3c_config(grad_clip=grad_clip, entropy_coeff=entropy_coeff)
    worker = RolloutWorker(make_env_creator("CartPole-v1"), A3CTorchPolicy, config)
    torch_policy = worker.get_policy()
    tf_config = {**config, "framework": "tf", "eager_tracing": tracing}
    tf_policy = A3CTFPolicy(torch_policy.observation_space, torch_policy.action_space, tf_config)
    tf_policy.set_weights(torch_policy.get_weights())
    stats = _assert_losses_and_gradients_agree(
        torch_policy,
        tf_policy,
        worker.sample(),
        ("total_loss", "policy_loss", "policy_entropy", "vf_loss", "vf_explained_var"),
    )
    assert stats["policy_entropy"] > 0.1 and stats["vf_loss"] > 0.1


def _assert_losses_and_gradients_agree(
    torch_policy: Any, tf_policy: Any, batch: SampleBatch, terms: tuple[str, ...]
) -> dict[str, float]:
    """Both policies' loss ``terms`` and gradients on ``batch`` agree (clipped to the same
    norm with ``grad_clip``, reported before clipping as ``grad_gnorm``); torch's stats."""
    pt_grads, pt_info = torch_policy.compute_gradients(batch.copy())
    tf_grads, tf_info = tf_policy.compute_gradients(batch.copy())
    pt_stats, tf_stats = pt_info["learner_stats"], tf_info["learner_stats"]
    for key in terms:
        assert tf_stats[key] == pytest.approx(pt_stats[key], rel=RTOL, abs=ATOL), key
    names = [name for name, _ in torch_policy.model.named_parameters()]
    tf_by_name = dict(zip(tf_policy.model.trainable_variables(as_dict=True), tf_grads, strict=True))
    assert set(tf_by_name) == set(names)
    for name, grad in zip(names, pt_grads, strict=True):
        np.testing.assert_allclose(tf_by_name[name], grad, rtol=RTOL, atol=ATOL, err_msg=name)
    grad_clip = torch_policy.config["grad_clip"]
    assert tf_policy.config["grad_clip"] == grad_clip
    if grad_clip:
        norm = np.sqrt(sum(float((g**2).sum()) for g in tf_grads))
        assert norm == pytest.approx(grad_clip, rel=1e-4)
        # the norm before clipping, as both report it
        assert tf_stats["grad_gnorm"] == pytest.approx(pt_stats["grad_gnorm"], rel=RTOL)
        assert tf_stats["grad_gnorm"] > grad_clip
    else:
        assert "grad_gnorm" not in tf_stats and "grad_gnorm" not in pt_stats
    return pt_stats


def _greedy_actions(trainer: Any, obs: np.ndarray) -> np.ndarray:
    return trainer.get_policy().compute_actions(obs, explore=False)[0]


TRAINERS = {
    "PPO": (PPOTrainer, {**TINY_CONFIG, "model": {"fcnet_hiddens": [16]}, "num_sgd_iter": 4}),
    "A2C": (A2CTrainer, {**A3C_TINY_CONFIG, "model": {"fcnet_hiddens": [16]}, "lr": 0.01}),
}


@pytest.mark.parametrize("algorithm", list(TRAINERS))
@pytest.mark.parametrize(("source", "target"), [("torch", "tf"), ("tf", "torch")])
def test_checkpoint_restores_across_frameworks(tmp_path, algorithm, source, target):
    trainer_class, config = TRAINERS[algorithm]
    writer = trainer_class(config={**config, "framework": source}, logdir=str(tmp_path / "w"))
    reader = trainer_class(
        config={**config, "framework": target, "seed": 7}, logdir=str(tmp_path / "r")
    )
    try:
        writer.train()
        path = writer.save(str(tmp_path / "ckpt"))
        timestep = writer.get_policy().global_timestep
        obs = np.random.default_rng(0).normal(0, 0.5, (64, 4)).astype(np.float32)
        assert not np.array_equal(_greedy_actions(writer, obs), _greedy_actions(reader, obs))
        reader.restore(path)
        assert reader.get_policy().global_timestep == timestep
        np.testing.assert_array_equal(_greedy_actions(reader, obs), _greedy_actions(writer, obs))
        written = writer.get_policy().compute_actions(obs, explore=False)[2]
        read = reader.get_policy().compute_actions(obs, explore=False)[2]
        for key in (SampleBatch.VF_PREDS, SampleBatch.ACTION_DIST_INPUTS):
            np.testing.assert_allclose(read[key], written[key], rtol=RTOL, atol=ATOL)
        assert reader.train()["training_iteration"] == 2  # the optimizer starts afresh
    finally:
        writer.stop()
        reader.stop()


def test_tf_is_seeded_by_the_rollout_worker():
    # config["framework"] is "torch" (as in a custom trainer's default config): the policy
    # class's own framework is what the worker seeds.
    weights = []
    for other_seed in (123, 456):
        tf.random.set_seed(other_seed)  # replaced by the worker's seeding
        worker = RolloutWorker(make_env_creator("CartPole-v1"), PPOTFPolicy, _ppo_config())
        weights.append(worker.get_policy().get_weights())
    for name, value in weights[0].items():
        np.testing.assert_array_equal(value, weights[1][name])
