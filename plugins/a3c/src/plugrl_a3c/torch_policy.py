"""The actor-critic loss for the torch backend (A2C and A3C)."""

from __future__ import annotations

from typing import Any

import torch

from plugrl import Postprocessing, SampleBatch
from plugrl.postprocessing import postprocess_advantages
from plugrl_a3c.shared import actor_critic_stats, default_config, setup_mixins
from plugrl_torch import build_torch_policy
from plugrl_torch.mixins import (
    EntropyCoeffSchedule,
    LearningRateSchedule,
    ValueNetworkMixin,
    clip_grad_norm,
    explained_variance,
    vf_preds_fetches,
)


def actor_critic_loss(policy: Any, model: Any, dist_class: type, train_batch: Any) -> torch.Tensor:
    """``-mean(logp * advantage) - entropy_coeff * entropy + vf_loss_coeff * value loss``,
    the value loss being ``0.5 * mean((V - value_targets)^2)``. Means, not sums, so the step
    size does not grow with the batch (and microbatch gradients average to the batch's)."""
    config = policy.config
    logits, _ = model.from_batch(train_batch)
    dist = dist_class(logits, model)
    logp = dist.logp(train_batch[SampleBatch.ACTIONS])
    policy_loss = -(logp * train_batch[Postprocessing.ADVANTAGES]).mean()
    entropy = dist.entropy().mean()
    total = policy_loss - policy.entropy_coeff * entropy
    if config["use_critic"]:
        values = model.value_function()
        targets = train_batch[Postprocessing.VALUE_TARGETS]
        vf_loss = 0.5 * ((values - targets) ** 2).mean()
        total = total + config["vf_loss_coeff"] * vf_loss
        explained_var = explained_variance(targets, values)
    else:
        vf_loss = explained_var = torch.tensor(0.0)
    policy._stats = {  # read by actor_critic_stats
        "total_loss": total,
        "policy_loss": policy_loss,
        "policy_entropy": entropy,
        "vf_loss": vf_loss,
        "vf_explained_var": explained_var,
    }
    return total


A3CTorchPolicy = build_torch_policy(
    name="A3CTorchPolicy",
    get_default_config=default_config,
    loss_fn=actor_critic_loss,
    stats_fn=actor_critic_stats,
    extra_action_out_fn=vf_preds_fetches,
    postprocess_fn=postprocess_advantages,
    extra_grad_process_fn=clip_grad_norm,
    before_loss_init=setup_mixins,
    mixins=[LearningRateSchedule, EntropyCoeffSchedule, ValueNetworkMixin],
)
