"""PG's loss on TensorFlow (traced with ``framework: tf``, eager with ``tf2``)."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from plugrl import Postprocessing, SampleBatch
from plugrl.policy import LossOutput
from plugrl_pg.pg import POLICY_TEMPLATE
from plugrl_tf import build_tf_policy
from plugrl_tf.ops import valid_rows


def pg_loss(policy: Any, model: Any, dist_class: type, train_batch: Any) -> LossOutput:
    """``-mean(logp(a|s) * return)`` (over the steps: a recurrent batch's padding left out)."""
    valid = valid_rows(train_batch)
    logits, _ = model.from_batch(train_batch)
    dist = dist_class(logits, model)
    logp = dist.logp(train_batch[SampleBatch.ACTIONS])
    loss = -tf.reduce_mean(valid(logp * train_batch[Postprocessing.ADVANTAGES]))
    return LossOutput(loss, {"policy_entropy": tf.reduce_mean(valid(dist.entropy()))})


PGTFPolicy = build_tf_policy(name="PGTFPolicy", loss_fn=pg_loss, **POLICY_TEMPLATE)
