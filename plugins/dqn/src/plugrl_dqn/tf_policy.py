"""DQN's and SimpleQ's loss on TF (traced with ``framework: tf``, eager with ``tf2``): the
torch loss of :mod:`plugrl_dqn.torch_policy`, term for term."""

from __future__ import annotations

from typing import Any

from plugrl import SampleBatch
from plugrl.policy import LossOutput
from plugrl_dqn.dqn import POLICY_TEMPLATE
from plugrl_dqn.postprocessing import DISCOUNTS
from plugrl_dqn.replay_buffer import WEIGHTS
from plugrl_dqn.simple_q import simple_q_config
from plugrl_dqn.tf_model import make_q_network
from plugrl_tf import build_tf_policy
from plugrl_tf._tf import tf


def q_loss(policy: Any, model: Any, dist_class: type, train_batch: Any) -> LossOutput:
    """Mean of ``weights * huber(Q(s, a) - target)``, or of ``weights * cross-entropy`` to the
    projected target distribution with ``num_atoms > 1``."""
    config = policy.config
    obs = tf.cast(train_batch[SampleBatch.OBS], tf.float32)
    next_obs = tf.cast(train_batch[SampleBatch.NEXT_OBS], tf.float32)
    batch_size = tf.shape(obs)[0]
    double_q = config.get("double_q", False)
    if double_q:
        q_both, _ = model({"obs": tf.concat([obs, next_obs], 0), "is_training": True}, [], None)
        q_t, q_tp1_online = q_both[:batch_size], tf.stop_gradient(q_both[batch_size:])
        logits_t = None if model.last_logits is None else model.last_logits[:batch_size]
    else:
        q_t, _ = model({"obs": obs, "is_training": True}, [], None)
        logits_t = model.last_logits
    actions = tf.cast(train_batch[SampleBatch.ACTIONS], tf.int32)
    q_selected = tf.gather(q_t, actions, batch_dims=1)
    q_tp1, _ = policy.target_model({"obs": next_obs, "is_training": True}, [], None)
    q_tp1 = tf.stop_gradient(q_tp1)
    best = tf.argmax(q_tp1_online if double_q else q_tp1, axis=1, output_type=tf.int32)
    not_terminated = 1.0 - tf.cast(train_batch[SampleBatch.TERMINATEDS], tf.float32)
    discounts = train_batch[DISCOUNTS] if DISCOUNTS in train_batch else config["gamma"]
    bootstrap = discounts * not_terminated
    rewards = tf.cast(train_batch[SampleBatch.REWARDS], tf.float32)
    weights = train_batch[WEIGHTS] if WEIGHTS in train_batch else tf.ones_like(q_selected)
    if logits_t is None:
        target = tf.stop_gradient(rewards + bootstrap * tf.gather(q_tp1, best, batch_dims=1))
        td_error = q_selected - target
        abs_error = tf.abs(td_error)
        per_row = tf.where(abs_error < 1.0, 0.5 * tf.square(td_error), abs_error - 0.5)
    else:
        next_logits = tf.gather(policy.target_model.last_logits, best, batch_dims=1)
        target_probs = tf.stop_gradient(
            project_onto_support(
                tf.nn.softmax(next_logits), rewards, bootstrap, policy.target_model.support
            )
        )
        log_probs = tf.nn.log_softmax(tf.gather(logits_t, actions, batch_dims=1))
        per_row = -tf.reduce_sum(target_probs * log_probs, axis=-1)
        td_error = per_row
    td_error = tf.stop_gradient(td_error)
    stats = {
        "mean_q": tf.reduce_mean(q_selected),
        "min_q": tf.reduce_min(q_selected),
        "max_q": tf.reduce_max(q_selected),
        "mean_td_error": tf.reduce_mean(td_error),
    }
    return LossOutput(tf.reduce_mean(weights * per_row), stats, fetches={"td_error": td_error})


def project_onto_support(
    probs: tf.Tensor, rewards: tf.Tensor, bootstrap: tf.Tensor, support: tf.Tensor
) -> tf.Tensor:
    """The distribution of ``rewards + bootstrap * Z`` (``Z ~ probs`` on ``support``), its
    mass split between the two nearest support points."""
    atoms = support.shape[0]
    v_min, v_max = support[0], support[-1]
    shifted = tf.clip_by_value(rewards[:, None] + bootstrap[:, None] * support, v_min, v_max)
    position = (shifted - v_min) / ((v_max - v_min) / (atoms - 1))
    lower = tf.floor(position)
    upper_share = position - lower  # 0 where the value falls exactly on a support point
    lower_index = tf.cast(lower, tf.int32)
    upper_index = tf.cast(tf.math.ceil(position), tf.int32)
    return tf.reduce_sum(
        tf.one_hot(lower_index, atoms) * (probs * (1 - upper_share))[..., None]
        + tf.one_hot(upper_index, atoms) * (probs * upper_share)[..., None],
        axis=1,
    )


DQNTFPolicy = build_tf_policy(
    name="DQNTFPolicy",
    make_model=make_q_network,
    loss_fn=q_loss,
    **POLICY_TEMPLATE,
)

SimpleQTFPolicy = DQNTFPolicy.with_updates(
    name="SimpleQTFPolicy", get_default_config=simple_q_config
)
