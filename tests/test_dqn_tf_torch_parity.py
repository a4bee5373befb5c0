"""DQN on TF and torch agree: Q-network weights and outputs, the TD errors, loss statistics and
gradients on the same weights and batch (plain, double/dueling/n-step, distributional), and
checkpoints restored across frameworks."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

from plugrl_dqn import DQNTFPolicy, DQNTorchPolicy, DQNTrainer, SimpleQTFPolicy, SimpleQTorchPolicy
from plugrl_dqn.testing import TINY_CONFIG, random_transitions

RTOL, ATOL = 1e-4, 1e-5
OBS_SPACE = spaces.Box(-1.0, 1.0, (3,), np.float32)
ACTIONS = spaces.Discrete(3)

CASES = {
    "simple q": (SimpleQTorchPolicy, SimpleQTFPolicy, {}),
    "double, dueling, n-step": (
        DQNTorchPolicy,
        DQNTFPolicy,
        {"double_q": True, "dueling": True, "hiddens": [8]},
    ),
    "plain dqn head, clipped": (
        DQNTorchPolicy,
        DQNTFPolicy,
        {"double_q": False, "dueling": False, "hiddens": [], "grad_clip": 0.5},
    ),
    "distributional": (
        DQNTorchPolicy,
        DQNTFPolicy,
        {"num_atoms": 7, "v_min": -2.0, "v_max": 3.0, "hiddens": [8]},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_td_errors_stats_and_gradients_agree(case):
    torch_cls, tf_cls, overrides = CASES[case]
    config = {"model": {"fcnet_hiddens": [8], "fcnet_activation": "tanh"}, "gamma": 0.9}
    config.update(overrides)
    torch_policy = torch_cls(OBS_SPACE, ACTIONS, config)
    tf_policy = tf_cls(OBS_SPACE, ACTIONS, {**config, "framework": "tf"})
    weights = torch_policy.get_weights()
    assert {k: v.shape for k, v in weights.items()} == {
        k: v.shape for k, v in tf_policy.get_weights().items()
    }
    # a target network that differs from the online one, the same in both frameworks
    rng = np.random.default_rng(0)
    target = {k: v + rng.normal(0, 0.2, v.shape).astype(np.float32) for k, v in weights.items()}
    tf_policy.set_weights(weights)
    for policy in (torch_policy, tf_policy):
        policy.set_state({**policy.get_state(), "weights": weights, "target_model": target})

    batch = random_transitions(32, seed=1, n_step_discounts=True)
    pt_grads, pt_info = torch_policy.compute_gradients(batch.copy())
    tf_grads, tf_info = tf_policy.compute_gradients(batch.copy())
    np.testing.assert_allclose(tf_info["td_error"], pt_info["td_error"], rtol=RTOL, atol=ATOL)
    pt_stats, tf_stats = pt_info["learner_stats"], tf_info["learner_stats"]
    for key in ("mean_q", "min_q", "max_q", "mean_td_error", "cur_lr"):
        assert tf_stats[key] == pytest.approx(pt_stats[key], rel=RTOL, abs=ATOL), key
    if config.get("grad_clip"):
        assert tf_stats["grad_gnorm"] == pytest.approx(pt_stats["grad_gnorm"], rel=RTOL)
    names = [name for name, _ in torch_policy.model.named_parameters()]
    tf_by_name = dict(zip(tf_policy.model.trainable_variables(as_dict=True), tf_grads, strict=True))
    assert set(tf_by_name) == set(names)
    for name, grad in zip(names, pt_grads, strict=True):
        np.testing.assert_allclose(tf_by_name[name], grad, rtol=RTOL, atol=ATOL, err_msg=name)


@pytest.mark.parametrize(("source", "target"), [("torch", "tf"), ("tf", "torch")])
def test_checkpoint_restores_across_frameworks(tmp_path, source, target):
    writer = DQNTrainer(config={**TINY_CONFIG, "framework": source}, logdir=str(tmp_path / "w"))
    reader = DQNTrainer(
        config={**TINY_CONFIG, "framework": target, "seed": 7}, logdir=str(tmp_path / "r")
    )
    try:
        writer.train()
        path = writer.save(str(tmp_path / "ckpt"))
        obs = np.random.default_rng(0).normal(0, 0.5, (64, 4)).astype(np.float32)

        def q_values(trainer: DQNTrainer) -> np.ndarray:
            return trainer.get_policy().compute_actions(obs, explore=False)[2]["action_dist_inputs"]

        assert not np.allclose(q_values(writer), q_values(reader))
        reader.restore(path)
        np.testing.assert_allclose(q_values(reader), q_values(writer), rtol=RTOL, atol=ATOL)
        epsilon = writer.get_policy().exploration.epsilon
        assert reader.get_policy().exploration.epsilon == pytest.approx(epsilon)
        target_weights = reader.get_policy().get_state()["target_model"]
        for name, value in writer.get_policy().get_state()["target_model"].items():
            np.testing.assert_allclose(target_weights[name], value, rtol=RTOL, atol=ATOL)
        assert reader.train()["timesteps_total"] == 200
    finally:
        writer.stop()
        reader.stop()
