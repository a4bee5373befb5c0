"""PPO's loss for the torch backend."""

from __future__ import annotations

from typing import Any

import torch

from plugrl import Postprocessing, SampleBatch
from plugrl_ppo.postprocessing import KLCoeffMixin, postprocess_ppo_gae
from plugrl_ppo.shared import default_config, kl_and_loss_stats, setup_mixins
from plugrl_torch import build_torch_policy
from plugrl_torch.mixins import (
    EntropyCoeffSchedule,
    LearningRateSchedule,
    ValueNetworkMixin,
    clip_grad_norm,
    explained_variance,
    vf_preds_fetches,
)


def ppo_surrogate_loss(policy: Any, model: Any, dist_class: type, train_batch: Any) -> torch.Tensor:
    """Clipped surrogate + KL penalty + (clipped) value loss - entropy bonus."""
    config = policy.config
    logits, _ = model.from_batch(train_batch)
    curr = dist_class(logits, model)
    prev = dist_class(train_batch[SampleBatch.ACTION_DIST_INPUTS], model)
    actions = train_batch[SampleBatch.ACTIONS]
    ratio = torch.exp(curr.logp(actions) - train_batch[SampleBatch.ACTION_LOGP])
    advantages = train_batch[Postprocessing.ADVANTAGES]
    surrogate = torch.min(
        advantages * ratio,
        advantages * torch.clamp(ratio, 1 - config["clip_param"], 1 + config["clip_param"]),
    )
    kl = prev.kl(curr)
    entropy = curr.entropy()
    total = -surrogate - policy.entropy_coeff * entropy
    if policy.kl_coeff:
        total = total + policy.kl_coeff * kl
    if config["use_critic"]:
        values = model.value_function()
        targets = train_batch[Postprocessing.VALUE_TARGETS]
        prev_values = train_batch[SampleBatch.VF_PREDS]
        clip = config["vf_clip_param"]
        clipped = prev_values + torch.clamp(values - prev_values, -clip, clip)
        vf_loss = torch.max((values - targets) ** 2, (clipped - targets) ** 2)
        total = total + config["vf_loss_coeff"] * vf_loss
        explained_var = explained_variance(targets, values)
    else:
        vf_loss = torch.zeros_like(total)
        explained_var = torch.tensor(0.0)
    policy._stats = {  # read by kl_and_loss_stats
        "vf_explained_var": explained_var,
        "total_loss": total.mean(),
        "policy_loss": -surrogate.mean(),
        "vf_loss": vf_loss.mean(),
        "kl": kl.mean(),
        "entropy": entropy.mean(),
    }
    return total.mean()


PPOTorchPolicy = build_torch_policy(
    name="PPOTorchPolicy",
    get_default_config=default_config,
    loss_fn=ppo_surrogate_loss,
    stats_fn=kl_and_loss_stats,
    extra_action_out_fn=vf_preds_fetches,
    postprocess_fn=postprocess_ppo_gae,
    extra_grad_process_fn=clip_grad_norm,
    before_loss_init=setup_mixins,
    mixins=[LearningRateSchedule, EntropyCoeffSchedule, KLCoeffMixin, ValueNetworkMixin],
)
