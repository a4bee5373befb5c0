"""MARWIL's (and BC's) loss on torch."""

from __future__ import annotations

from typing import Any

import torch

from plugrl import Postprocessing, SampleBatch
from plugrl.policy import LossOutput
from plugrl_marwil.marwil import POLICY_TEMPLATE
from plugrl_torch import build_torch_policy
from plugrl_torch.ops import explained_variance


def marwil_loss(policy: Any, model: Any, dist_class: type, train_batch: Any) -> LossOutput:
    """``-mean(w * logp(a|s)) + vf_coeff * 0.5 * mean(adv^2)``, ``adv = return - V(s)`` and
    ``w = exp(beta * adv / sqrt(c))`` (no gradient), ``c`` the moving average of the squared
    advantage, updated first; BC (``beta`` 0): ``-mean(logp(a|s))``."""
    config = policy.config
    logits, _ = model.from_batch(train_batch)
    logp = dist_class(logits, model).logp(train_batch[SampleBatch.ACTIONS])
    if config["beta"] == 0.0:
        policy_loss = -logp.mean()
        return LossOutput(policy_loss, {"policy_loss": policy_loss})
    returns = train_batch[Postprocessing.VALUE_TARGETS]
    values = model.value_function()
    advantages = returns - values
    sqd_adv = (advantages.detach() ** 2).mean()
    average = policy.moving_average_sqd_adv_norm.value
    rate = config["moving_average_sqd_adv_norm_update_rate"]
    average.copy_(average + rate * (sqd_adv - average))
    weights = torch.exp(config["beta"] * advantages.detach() / (1e-8 + average.sqrt()))
    policy_loss = -(weights * logp).mean()
    vf_loss = 0.5 * (advantages**2).mean()
    return LossOutput(
        policy_loss + config["vf_coeff"] * vf_loss,
        {
            "policy_loss": policy_loss,
            "vf_loss": vf_loss,
            "vf_explained_var": explained_variance(returns, values),
            "moving_average_sqd_adv_norm": average,
        },
    )


MARWILTorchPolicy = build_torch_policy(
    name="MARWILTorchPolicy", loss_fn=marwil_loss, **POLICY_TEMPLATE
)
