"""PPO's loss on torch."""

from __future__ import annotations

from typing import Any

import torch

from plugrl import Postprocessing, SampleBatch
from plugrl.policy import LossOutput
from plugrl_ppo.ppo import POLICY_TEMPLATE
from plugrl_torch import build_torch_policy
from plugrl_torch.ops import explained_variance, valid_rows


def ppo_surrogate_loss(policy: Any, model: Any, dist_class: type, train_batch: Any) -> LossOutput:
    """Clipped surrogate + KL penalty + (clipped) value loss - entropy bonus."""
    config = policy.config
    valid = valid_rows(train_batch)  # the steps, without a recurrent batch's padding
    logits, _ = model.from_batch(train_batch)
    curr = dist_class(logits, model)
    ratio = torch.exp(
        curr.logp(train_batch[SampleBatch.ACTIONS]) - train_batch[SampleBatch.ACTION_LOGP]
    )
    advantages = train_batch[Postprocessing.ADVANTAGES]
    clip = config["clip_param"]
    surrogate = torch.min(advantages * ratio, advantages * torch.clamp(ratio, 1 - clip, 1 + clip))
    total = -surrogate
    kl_coeff, entropy_coeff = float(policy.kl_coeff), float(policy.entropy_coeff)

    def kl_from_old() -> torch.Tensor:
        return dist_class(train_batch[SampleBatch.ACTION_DIST_INPUTS], model).kl(curr)

    # a term whose coefficient is 0 is left out of the loss and computed only for the stats
    kl = kl_from_old() if kl_coeff else None
    entropy = curr.entropy() if entropy_coeff else None
    if entropy_coeff:
        total = total - entropy_coeff * entropy
    if kl_coeff:
        total = total + kl_coeff * kl
    use_critic = config["use_critic"]
    if use_critic:
        values = model.value_function()
        targets = train_batch[Postprocessing.VALUE_TARGETS]
        prev_values = train_batch[SampleBatch.VF_PREDS]
        vf_clip = config["vf_clip_param"]
        clipped = prev_values + torch.clamp(values - prev_values, -vf_clip, vf_clip)
        vf_loss = torch.max((values - targets) ** 2, (clipped - targets) ** 2)
        total = total + config["vf_loss_coeff"] * vf_loss

    def stats() -> dict[str, Any]:
        with torch.no_grad():  # inside: a decorator would cost every update 3 us, reported or not
            out = {
                "policy_loss": -valid(surrogate).mean(),
                "kl": valid(kl_from_old() if kl is None else kl).mean(),
                "entropy": valid(curr.entropy() if entropy is None else entropy).mean(),
            }
            if use_critic:
                out["vf_loss"] = valid(vf_loss).mean()
                out["vf_explained_var"] = explained_variance(valid(targets), valid(values))
            return out

    return LossOutput(valid(total).mean(), stats)


PPOTorchPolicy = build_torch_policy(
    name="PPOTorchPolicy", loss_fn=ppo_surrogate_loss, **POLICY_TEMPLATE
)
