"""PG's loss on torch."""

from __future__ import annotations

from typing import Any

import torch

from plugrl import Postprocessing, SampleBatch
from plugrl.policy import LossOutput
from plugrl_pg.pg import POLICY_TEMPLATE
from plugrl_torch import build_torch_policy


def pg_loss(policy: Any, model: Any, dist_class: type, train_batch: Any) -> LossOutput:
    """``-mean(logp(a|s) * return)``."""
    logits, _ = model.from_batch(train_batch)
    dist = dist_class(logits, model)
    logp = dist.logp(train_batch[SampleBatch.ACTIONS])
    loss = -torch.mean(logp * train_batch[Postprocessing.ADVANTAGES])
    return LossOutput(loss, {"policy_entropy": dist.entropy().mean()})


PGTorchPolicy = build_torch_policy(name="PGTorchPolicy", loss_fn=pg_loss, **POLICY_TEMPLATE)
