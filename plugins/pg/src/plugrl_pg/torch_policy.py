"""PG's loss on torch."""

from __future__ import annotations

from typing import Any

import torch

from plugrl import Postprocessing, SampleBatch
from plugrl.policy import LossOutput
from plugrl_pg.pg import POLICY_TEMPLATE
from plugrl_torch import build_torch_policy
from plugrl_torch.ops import valid_rows


def pg_loss(policy: Any, model: Any, dist_class: type, train_batch: Any) -> LossOutput:
    """``-mean(logp(a|s) * return)`` (over the steps: a recurrent batch's padding left out)."""
    valid = valid_rows(train_batch)
    logits, _ = model.from_batch(train_batch)
    dist = dist_class(logits, model)
    logp = dist.logp(train_batch[SampleBatch.ACTIONS])
    loss = -torch.mean(valid(logp * train_batch[Postprocessing.ADVANTAGES]))
    return LossOutput(loss, {"policy_entropy": valid(dist.entropy()).mean()})


PGTorchPolicy = build_torch_policy(name="PGTorchPolicy", loss_fn=pg_loss, **POLICY_TEMPLATE)
