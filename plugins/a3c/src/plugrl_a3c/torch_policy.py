"""The actor-critic loss on torch (A2C and A3C)."""

from __future__ import annotations

from typing import Any

import torch

from plugrl import Postprocessing, SampleBatch
from plugrl.policy import LossOutput
from plugrl_a3c.a3c import POLICY_TEMPLATE
from plugrl_torch import build_torch_policy
from plugrl_torch.ops import explained_variance, valid_rows


def actor_critic_loss(policy: Any, model: Any, dist_class: type, train_batch: Any) -> LossOutput:
    """``-mean(logp * advantage) - entropy_coeff * entropy + vf_loss_coeff * value loss``,
    the value loss being ``0.5 * mean((V - value_targets)^2)``. Means, not sums, so the step
    size does not grow with the batch (and microbatch gradients average to the batch's); over
    the steps, a recurrent batch's padding left out."""
    config = policy.config
    valid = valid_rows(train_batch)
    logits, _ = model.from_batch(train_batch)
    dist = dist_class(logits, model)
    logp = dist.logp(train_batch[SampleBatch.ACTIONS])
    policy_loss = -valid(logp * train_batch[Postprocessing.ADVANTAGES]).mean()
    entropy_coeff = float(policy.entropy_coeff)
    # at coefficient 0 the entropy is left out of the loss and computed only for the stats
    entropy = valid(dist.entropy()).mean() if entropy_coeff else None
    total = policy_loss - entropy_coeff * entropy if entropy_coeff else policy_loss
    use_critic = config["use_critic"]
    if use_critic:
        values = model.value_function()
        targets = train_batch[Postprocessing.VALUE_TARGETS]
        vf_loss = 0.5 * valid((values - targets) ** 2).mean()
        total = total + config["vf_loss_coeff"] * vf_loss

    def stats() -> dict[str, Any]:
        with torch.no_grad():  # inside: a decorator would cost every update 3 us, reported or not
            out = {
                "policy_loss": policy_loss,
                "policy_entropy": valid(dist.entropy()).mean() if entropy is None else entropy,
            }
            if use_critic:
                out["vf_loss"] = vf_loss
                out["vf_explained_var"] = explained_variance(valid(targets), valid(values))
            return out

    return LossOutput(total, stats)


A3CTorchPolicy = build_torch_policy(
    name="A3CTorchPolicy", loss_fn=actor_critic_loss, **POLICY_TEMPLATE
)
