"""Replacing an algorithm's loss (the seeds' main customisation): a loss returning a bare
tensor trains PPO, A2C and DQN on torch and on TF with the algorithm's other pieces and stats;
a stats function that needs a term the loss did not return says so in one line."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import torch

from plugrl import PlugrlError, Postprocessing, SampleBatch, get_trainer_class
from plugrl.registry import get_policy_class
from plugrl.trainer.trainer import lineage_of
from plugrl_a3c.testing import TINY_CONFIG as A2C_TINY
from plugrl_dqn.testing import TINY_CONFIG as DQN_TINY
from plugrl_ppo.testing import TINY_CONFIG as PPO_TINY

OPS = {"torch": torch, "tf": tf}


def _mean(framework: str, x):
    return torch.mean(x) if framework == "torch" else tf.reduce_mean(x)


def policy_gradient_loss(framework: str):
    def loss(policy, model, dist_class, train_batch):
        logits, _ = model.from_batch(train_batch)
        logp = dist_class(logits, model).logp(train_batch[SampleBatch.ACTIONS])
        return -_mean(framework, logp * train_batch[Postprocessing.ADVANTAGES])

    return loss


def q_regression_loss(framework: str):
    """Q(s, a) regressed on the reward alone: a bare loss, no target network, no TD errors."""

    def loss(policy, model, dist_class, train_batch):
        q, _ = model({"obs": train_batch[SampleBatch.OBS], "is_training": True}, [], None)
        actions = train_batch[SampleBatch.ACTIONS]
        if framework == "torch":
            chosen = q.gather(1, actions.long().unsqueeze(1)).squeeze(1)
        else:
            chosen = tf.gather(q, tf.cast(actions, tf.int32), batch_dims=1)
        return _mean(framework, (chosen - train_batch[SampleBatch.REWARDS]) ** 2)

    return loss


CASES = {
    "PPO": (PPO_TINY, policy_gradient_loss, {"cur_kl_coeff", "entropy_coeff"}),
    "A2C": (A2C_TINY, policy_gradient_loss, {"entropy_coeff"}),
    "DQN": (DQN_TINY, q_regression_loss, {"cur_epsilon"}),
}


@pytest.mark.parametrize("framework", ["torch", "tf"])
@pytest.mark.parametrize("algorithm", list(CASES))
def test_a_bare_tensor_loss_trains_with_the_algorithms_stats(tmp_path, algorithm, framework):
    config, make_loss, own_stats = CASES[algorithm]
    trainer_cls = get_trainer_class(algorithm)
    policy_cls = get_policy_class(lineage_of(trainer_cls), framework)  # A2C: A3C's policies
    custom = policy_cls.with_updates(name="CustomLoss", loss_fn=make_loss(framework))
    trainer = trainer_cls.with_updates(default_policy=custom)(
        config={**config, "framework": framework}, logdir=str(tmp_path)
    )
    try:
        policy = trainer.get_policy()
        assert type(policy).__name__ == "CustomLoss"
        before = policy.get_weights()
        for _ in range(2):
            result = trainer.train()
        after = policy.get_weights()
        assert any(not np.array_equal(before[k], after[k]) for k in before)
        stats = result["info"]["learner"]["default_policy"]
        assert {"total_loss", "cur_lr"} | own_stats <= set(stats), stats
        assert np.isfinite(stats["total_loss"])
    finally:
        trainer.stop()


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_a_stats_fn_needing_a_missing_term_says_which(tmp_path, framework):
    policy_cls = get_policy_class(["PPO"], framework)
    custom = policy_cls.with_updates(
        name="NeedsKL",
        loss_fn=policy_gradient_loss(framework),
        stats_fn=lambda policy, train_batch, loss: {"kl_seen": loss["kl"]},
    )
    trainer = get_trainer_class("PPO").with_updates(default_policy=custom)(
        config={**PPO_TINY, "framework": framework}, logdir=str(tmp_path)
    )
    try:
        with pytest.raises(PlugrlError) as error:
            trainer.train()
    finally:
        trainer.stop()
    message = str(error.value)
    assert "\n" not in message
    assert "NeedsKL's stats_fn needs 'kl' from the loss" in message
    assert "loss returned only a bare loss" in message
