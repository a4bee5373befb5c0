"""PPO's loss for the TF backend (eager, or traced with ``eager_tracing``)."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from plugrl import Postprocessing, SampleBatch
from plugrl_ppo.postprocessing import KLCoeffMixin, postprocess_ppo_gae
from plugrl_ppo.shared import default_config, kl_and_loss_stats, setup_mixins
from plugrl_tf import build_tf_policy
from plugrl_tf.mixins import (
    EntropyCoeffSchedule,
    LearningRateSchedule,
    TracedScalar,
    ValueNetworkMixin,
    clip_gradients,
    explained_variance,
    grad_norm_stats,
    vf_preds_fetches,
)


class KLCoeffVariable:
    """Keeps ``kl_coeff`` (adapted between iterations) where a traced loss sees changes."""

    kl_coeff = TracedScalar()


def ppo_surrogate_loss(policy: Any, model: Any, dist_class: type, train_batch: Any) -> tf.Tensor:
    """Clipped surrogate + KL penalty + (clipped) value loss - entropy bonus."""
    config = policy.config
    logits, _ = model.from_batch(train_batch)
    curr = dist_class(logits, model)
    prev = dist_class(train_batch[SampleBatch.ACTION_DIST_INPUTS], model)
    actions = train_batch[SampleBatch.ACTIONS]
    ratio = tf.exp(curr.logp(actions) - train_batch[SampleBatch.ACTION_LOGP])
    advantages = train_batch[Postprocessing.ADVANTAGES]
    clip = config["clip_param"]
    surrogate = tf.minimum(
        advantages * ratio, advantages * tf.clip_by_value(ratio, 1 - clip, 1 + clip)
    )
    kl = prev.kl(curr)
    entropy = curr.entropy()
    total = -surrogate - policy.entropy_coeff * entropy + policy.kl_coeff * kl
    if config["use_critic"]:
        values = model.value_function()
        targets = train_batch[Postprocessing.VALUE_TARGETS]
        prev_values = train_batch[SampleBatch.VF_PREDS]
        vf_clip = config["vf_clip_param"]
        clipped = prev_values + tf.clip_by_value(values - prev_values, -vf_clip, vf_clip)
        vf_loss = tf.maximum(tf.square(values - targets), tf.square(clipped - targets))
        total = total + config["vf_loss_coeff"] * vf_loss
        explained_var = explained_variance(targets, values)
    else:
        vf_loss = tf.zeros_like(total)
        explained_var = tf.constant(0.0)
    policy._stats = {  # read by kl_and_loss_stats
        "vf_explained_var": explained_var,
        "total_loss": tf.reduce_mean(total),
        "policy_loss": -tf.reduce_mean(surrogate),
        "vf_loss": tf.reduce_mean(vf_loss),
        "kl": tf.reduce_mean(kl),
        "entropy": tf.reduce_mean(entropy),
    }
    return tf.reduce_mean(total)


PPOTFPolicy = build_tf_policy(
    name="PPOTFPolicy",
    get_default_config=default_config,
    loss_fn=ppo_surrogate_loss,
    stats_fn=kl_and_loss_stats,
    extra_action_fetches_fn=vf_preds_fetches,
    postprocess_fn=postprocess_ppo_gae,
    gradients_fn=clip_gradients,
    grad_stats_fn=grad_norm_stats,
    before_loss_init=setup_mixins,
    mixins=[
        LearningRateSchedule,
        EntropyCoeffSchedule,
        KLCoeffVariable,
        KLCoeffMixin,
        ValueNetworkMixin,
    ],
)
