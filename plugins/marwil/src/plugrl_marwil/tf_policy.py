"""MARWIL's (and BC's) loss on TensorFlow (traced with ``framework: tf``, eager with ``tf2``)."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from plugrl import Postprocessing, SampleBatch
from plugrl.policy import LossOutput
from plugrl_marwil.marwil import POLICY_TEMPLATE
from plugrl_tf import build_tf_policy
from plugrl_tf.ops import explained_variance


def marwil_loss(policy: Any, model: Any, dist_class: type, train_batch: Any) -> LossOutput:
    """``-mean(w * logp(a|s)) + vf_coeff * 0.5 * mean(adv^2)``, ``adv = return - V(s)`` and
    ``w = exp(beta * adv / sqrt(c))`` (no gradient), ``c`` the moving average of the squared
    advantage, updated first; BC (``beta`` 0): ``-mean(logp(a|s))``."""
    config = policy.config
    logits, _ = model.from_batch(train_batch)
    logp = dist_class(logits, model).logp(train_batch[SampleBatch.ACTIONS])
    if config["beta"] == 0.0:
        policy_loss = -tf.reduce_mean(logp)
        return LossOutput(policy_loss, {"policy_loss": policy_loss})
    returns = train_batch[Postprocessing.VALUE_TARGETS]
    values = model.value_function()
    advantages = returns - values
    sqd_adv = tf.reduce_mean(tf.square(tf.stop_gradient(advantages)))
    variable = policy.moving_average_sqd_adv_norm.value
    rate = config["moving_average_sqd_adv_norm_update_rate"]
    average = variable + rate * (sqd_adv - variable)
    variable.assign(average)  # a tf.Variable: traced code updates it too
    weights = tf.exp(config["beta"] * tf.stop_gradient(advantages) / (1e-8 + tf.sqrt(average)))
    policy_loss = -tf.reduce_mean(weights * logp)
    vf_loss = 0.5 * tf.reduce_mean(tf.square(advantages))
    return LossOutput(
        policy_loss + config["vf_coeff"] * vf_loss,
        {
            "policy_loss": policy_loss,
            "vf_loss": vf_loss,
            "vf_explained_var": explained_variance(returns, values),
            "moving_average_sqd_adv_norm": average,
        },
    )


MARWILTFPolicy = build_tf_policy(name="MARWILTFPolicy", loss_fn=marwil_loss, **POLICY_TEMPLATE)
