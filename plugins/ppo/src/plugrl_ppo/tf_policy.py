"""PPO's loss on TensorFlow (traced with ``framework: tf``, eager with ``tf2``)."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from plugrl import Postprocessing, SampleBatch
from plugrl.policy import LossOutput
from plugrl_ppo.ppo import POLICY_TEMPLATE
from plugrl_tf import build_tf_policy
from plugrl_tf.ops import explained_variance, valid_rows


def ppo_surrogate_loss(policy: Any, model: Any, dist_class: type, train_batch: Any) -> LossOutput:
    """Clipped surrogate + KL penalty + (clipped) value loss - entropy bonus."""
    config = policy.config
    valid = valid_rows(train_batch)  # the steps, without a recurrent batch's padding
    logits, _ = model.from_batch(train_batch)
    curr = dist_class(logits, model)
    prev = dist_class(train_batch[SampleBatch.ACTION_DIST_INPUTS], model)
    ratio = tf.exp(
        curr.logp(train_batch[SampleBatch.ACTIONS]) - train_batch[SampleBatch.ACTION_LOGP]
    )
    advantages = train_batch[Postprocessing.ADVANTAGES]
    clip = config["clip_param"]
    surrogate = tf.minimum(
        advantages * ratio, advantages * tf.clip_by_value(ratio, 1 - clip, 1 + clip)
    )
    kl = prev.kl(curr)
    entropy = curr.entropy()
    total = -surrogate - policy.entropy_coeff.value * entropy + policy.kl_coeff.value * kl
    use_critic = config["use_critic"]
    if use_critic:
        values = model.value_function()
        targets = train_batch[Postprocessing.VALUE_TARGETS]
        prev_values = train_batch[SampleBatch.VF_PREDS]
        vf_clip = config["vf_clip_param"]
        clipped = prev_values + tf.clip_by_value(values - prev_values, -vf_clip, vf_clip)
        vf_loss = tf.maximum(tf.square(values - targets), tf.square(clipped - targets))
        total = total + config["vf_loss_coeff"] * vf_loss

    def stats() -> dict[str, Any]:
        out = {
            "policy_loss": -tf.reduce_mean(valid(surrogate)),
            "kl": tf.reduce_mean(valid(kl)),
            "entropy": tf.reduce_mean(valid(entropy)),
        }
        if use_critic:
            out["vf_loss"] = tf.reduce_mean(valid(vf_loss))
            out["vf_explained_var"] = explained_variance(valid(targets), valid(values))
        return out

    return LossOutput(tf.reduce_mean(valid(total)), stats)


PPOTFPolicy = build_tf_policy(name="PPOTFPolicy", loss_fn=ppo_surrogate_loss, **POLICY_TEMPLATE)
