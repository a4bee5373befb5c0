"""A3C on TF and torch agree: each loss term and the (clipped) gradients on the same weights
and batch, and greedy actions after a checkpoint is restored into the other framework."""

from __future__ import annotations

import numpy as np
import pytest

from plugrl import RolloutWorker
from plugrl.env.creator import make_env_creator
from plugrl_a3c import A2C_DEFAULT_CONFIG, A2CTrainer, A3CTFPolicy, A3CTorchPolicy
from plugrl_a3c.testing import TINY_CONFIG

RTOL, ATOL = 1e-4, 1e-5  # float32: the frameworks sum in different orders
TERMS = ("total_loss", "policy_loss", "policy_entropy", "vf_loss", "vf_explained_var")


@pytest.mark.parametrize("grad_clip", [None, 0.5])
def test_a3c_loss_and_gradients_agree(grad_clip):
    config = {
        **A2C_DEFAULT_CONFIG,
        "model": {"fcnet_hiddens": [16, 16]},
        "num_envs_per_worker": 2,
        "rollout_fragment_length": 32,
        "seed": 3,
        "entropy_coeff": 0.05,
        "grad_clip": grad_clip,
    }
    worker = RolloutWorker(make_env_creator("CartPole-v1"), A3CTorchPolicy, config)
    batch = worker.sample()
    torch_policy = worker.get_policy()
    tf_policy = A3CTFPolicy(
        torch_policy.observation_space, torch_policy.action_space, {**config, "framework": "tf"}
    )
    tf_policy.set_weights(torch_policy.get_weights())

    pt_grads, pt_info = torch_policy.compute_gradients(batch.copy())
    tf_grads, tf_info = tf_policy.compute_gradients(batch.copy())
    pt_stats, tf_stats = pt_info["learner_stats"], tf_info["learner_stats"]
    assert pt_stats["policy_entropy"] > 0.1 and pt_stats["vf_loss"] > 0.1
    for key in TERMS:
        assert tf_stats[key] == pytest.approx(pt_stats[key], rel=RTOL, abs=ATOL), key
    names = [name for name, _ in torch_policy.model.named_parameters()]
    tf_by_name = dict(zip(tf_policy.model.trainable_variables(as_dict=True), tf_grads, strict=True))
    assert set(tf_by_name) == set(names)
    for name, grad in zip(names, pt_grads, strict=True):
        np.testing.assert_allclose(tf_by_name[name], grad, rtol=RTOL, atol=ATOL, err_msg=name)
    if grad_clip:
        norm = np.sqrt(sum(float((g**2).sum()) for g in tf_grads))
        assert norm == pytest.approx(grad_clip, rel=1e-4)
        assert tf_stats["grad_gnorm"] == pytest.approx(pt_stats["grad_gnorm"], rel=RTOL)
        assert tf_stats["grad_gnorm"] > grad_clip
    else:
        assert "grad_gnorm" not in tf_stats and "grad_gnorm" not in pt_stats


def _greedy(trainer: A2CTrainer, obs: np.ndarray) -> tuple[np.ndarray, dict]:
    actions, _, extra = trainer.get_policy().compute_actions(obs, explore=False)
    return actions, extra


@pytest.mark.parametrize(("source", "target"), [("torch", "tf"), ("tf", "torch")])
def test_a3c_checkpoint_restores_across_frameworks(tmp_path, source, target):
    config = {**TINY_CONFIG, "model": {"fcnet_hiddens": [16]}, "lr": 0.01}
    writer = A2CTrainer(config={**config, "framework": source}, logdir=str(tmp_path / "w"))
    reader = A2CTrainer(
        config={**config, "framework": target, "seed": 7}, logdir=str(tmp_path / "r")
    )
    try:
        writer.train()
        path = writer.save(str(tmp_path / "ckpt"))
        timestep = writer.get_policy().global_timestep  # (acting below advances it)
        obs = np.random.default_rng(0).normal(0, 0.5, (64, 4)).astype(np.float32)
        assert not np.array_equal(_greedy(writer, obs)[0], _greedy(reader, obs)[0])
        reader.restore(path)
        assert reader.get_policy().global_timestep == timestep
        (read, read_extra), (written, written_extra) = _greedy(reader, obs), _greedy(writer, obs)
        np.testing.assert_array_equal(read, written)
        for key in ("vf_preds", "action_dist_inputs"):
            np.testing.assert_allclose(read_extra[key], written_extra[key], RTOL, ATOL)
        assert reader.train()["timesteps_total"] == 2 * 64
    finally:
        writer.stop()
        reader.stop()
