"""The actor-critic loss for the TF backend (A2C and A3C; eager, or traced with
``eager_tracing``)."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from plugrl import Postprocessing, SampleBatch
from plugrl.postprocessing import postprocess_advantages
from plugrl_a3c.shared import actor_critic_stats, default_config, setup_mixins
from plugrl_tf import build_tf_policy
from plugrl_tf.mixins import (
    EntropyCoeffSchedule,
    LearningRateSchedule,
    ValueNetworkMixin,
    clip_gradients,
    explained_variance,
    grad_norm_stats,
    vf_preds_fetches,
)


def actor_critic_loss(policy: Any, model: Any, dist_class: type, train_batch: Any) -> tf.Tensor:
    """``-mean(logp * advantage) - entropy_coeff * entropy + vf_loss_coeff * value loss``,
    the value loss being ``0.5 * mean((V - value_targets)^2)`` (as A3CTorchPolicy's)."""
    config = policy.config
    logits, _ = model.from_batch(train_batch)
    dist = dist_class(logits, model)
    logp = dist.logp(train_batch[SampleBatch.ACTIONS])
    policy_loss = -tf.reduce_mean(logp * train_batch[Postprocessing.ADVANTAGES])
    entropy = tf.reduce_mean(dist.entropy())
    total = policy_loss - policy.entropy_coeff * entropy
    if config["use_critic"]:
        values = model.value_function()
        targets = train_batch[Postprocessing.VALUE_TARGETS]
        vf_loss = 0.5 * tf.reduce_mean(tf.square(values - targets))
        total = total + config["vf_loss_coeff"] * vf_loss
        explained_var = explained_variance(targets, values)
    else:
        vf_loss = explained_var = tf.constant(0.0)
    policy._stats = {  # read by actor_critic_stats
        "total_loss": total,
        "policy_loss": policy_loss,
        "policy_entropy": entropy,
        "vf_loss": vf_loss,
        "vf_explained_var": explained_var,
    }
    return total


A3CTFPolicy = build_tf_policy(
    name="A3CTFPolicy",
    get_default_config=default_config,
    loss_fn=actor_critic_loss,
    stats_fn=actor_critic_stats,
    extra_action_fetches_fn=vf_preds_fetches,
    postprocess_fn=postprocess_advantages,
    gradients_fn=clip_gradients,
    grad_stats_fn=grad_norm_stats,
    before_loss_init=setup_mixins,
    mixins=[LearningRateSchedule, EntropyCoeffSchedule, ValueNetworkMixin],
)
