"""The actor-critic loss on TensorFlow (A2C and A3C; traced with ``framework: tf``, eager
with ``tf2``)."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from plugrl import Postprocessing, SampleBatch
from plugrl.policy import LossOutput
from plugrl_a3c.a3c import POLICY_TEMPLATE
from plugrl_tf import build_tf_policy
from plugrl_tf.ops import explained_variance, valid_rows


def actor_critic_loss(policy: Any, model: Any, dist_class: type, train_batch: Any) -> LossOutput:
    """``-mean(logp * advantage) - entropy_coeff * entropy + vf_loss_coeff * value loss``,
    the value loss being ``0.5 * mean((V - value_targets)^2)`` (as A3CTorchPolicy's)."""
    config = policy.config
    valid = valid_rows(train_batch)
    logits, _ = model.from_batch(train_batch)
    dist = dist_class(logits, model)
    logp = dist.logp(train_batch[SampleBatch.ACTIONS])
    policy_loss = -tf.reduce_mean(valid(logp * train_batch[Postprocessing.ADVANTAGES]))
    entropy = tf.reduce_mean(valid(dist.entropy()))
    total = policy_loss - policy.entropy_coeff.value * entropy
    stats = {"policy_loss": policy_loss, "policy_entropy": entropy}
    if config["use_critic"]:
        values = model.value_function()
        targets = train_batch[Postprocessing.VALUE_TARGETS]
        vf_loss = 0.5 * tf.reduce_mean(valid(tf.square(values - targets)))
        total = total + config["vf_loss_coeff"] * vf_loss
        explained = explained_variance(valid(targets), valid(values))
        stats.update(vf_loss=vf_loss, vf_explained_var=explained)
    return LossOutput(total, stats)


A3CTFPolicy = build_tf_policy(name="A3CTFPolicy", loss_fn=actor_critic_loss, **POLICY_TEMPLATE)
