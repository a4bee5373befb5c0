"""DQN's and SimpleQ's loss on torch: TD error against a target network, double-Q targets,
n-step discounts, Huber loss weighted by prioritized-replay importance weights."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from plugrl import SampleBatch
from plugrl.policy import LossOutput
from plugrl_dqn.dqn import POLICY_TEMPLATE
from plugrl_dqn.postprocessing import DISCOUNTS
from plugrl_dqn.replay_buffer import WEIGHTS
from plugrl_dqn.simple_q import simple_q_config
from plugrl_dqn.torch_model import make_q_network
from plugrl_torch import build_torch_policy


def q_loss(policy: Any, model: Any, dist_class: type, train_batch: Any) -> LossOutput:
    """Mean over the batch of ``weights * huber(Q(s, a) - target)``; with ``num_atoms > 1``,
    of ``weights * cross-entropy`` between the predicted return distribution of ``(s, a)`` and
    the target distribution projected onto the support."""
    config = policy.config
    obs, next_obs = train_batch[SampleBatch.OBS], train_batch[SampleBatch.NEXT_OBS]
    batch_size = len(obs)
    double_q = config.get("double_q", False)
    if double_q:
        # One pass over both observation sets: Q(s) for the loss, Q(s') to pick a'.
        q_both, _ = model({"obs": torch.cat([obs, next_obs]), "is_training": True}, [], None)
        q_t, q_tp1_online = q_both[:batch_size], q_both[batch_size:].detach()
        logits_t = None if model.last_logits is None else model.last_logits[:batch_size]
    else:
        q_t, _ = model({"obs": obs, "is_training": True}, [], None)
        logits_t = model.last_logits
    actions = train_batch[SampleBatch.ACTIONS].long()
    q_selected = q_t.gather(1, actions.unsqueeze(1)).squeeze(1)
    with torch.no_grad():
        q_tp1, _ = policy.target_model({"obs": next_obs, "is_training": True}, [], None)
        best = (q_tp1_online if double_q else q_tp1).argmax(dim=1)
        not_terminated = 1.0 - train_batch[SampleBatch.TERMINATEDS].float()
        discounts = (
            train_batch[DISCOUNTS] if DISCOUNTS in train_batch else torch.tensor(config["gamma"])
        )
        bootstrap = discounts * not_terminated
        rewards = train_batch[SampleBatch.REWARDS]
    weights = train_batch[WEIGHTS] if WEIGHTS in train_batch else torch.ones_like(q_selected)
    if logits_t is None:
        with torch.no_grad():
            target = rewards + bootstrap * q_tp1.gather(1, best.unsqueeze(1)).squeeze(1)
        td_error = q_selected - target
        per_row = F.huber_loss(q_selected, target, reduction="none", delta=1.0)
    else:
        rows = torch.arange(batch_size)
        with torch.no_grad():
            next_probs = torch.softmax(policy.target_model.last_logits[rows, best], dim=-1)
            target_probs = project_onto_support(
                next_probs, rewards, bootstrap, policy.target_model.support
            )
        log_probs = torch.log_softmax(logits_t[rows, actions], dim=-1)
        per_row = -(target_probs * log_probs).sum(dim=-1)
        td_error = per_row.detach()  # the priority of a row: its cross-entropy
    td_error = td_error.detach()
    stats = {
        "mean_q": q_selected.mean(),
        "min_q": q_selected.min(),
        "max_q": q_selected.max(),
        "mean_td_error": td_error.mean(),
    }
    return LossOutput((weights * per_row).mean(), stats, fetches={"td_error": td_error})


def project_onto_support(
    probs: torch.Tensor, rewards: torch.Tensor, bootstrap: torch.Tensor, support: torch.Tensor
) -> torch.Tensor:
    """The distribution of ``rewards + bootstrap * Z`` (``Z ~ probs`` on ``support``), its
    mass split between the two nearest support points."""
    v_min, v_max, atoms = support[0], support[-1], len(support)
    shifted = (rewards.unsqueeze(1) + bootstrap.unsqueeze(1) * support).clamp(v_min, v_max)
    position = (shifted - v_min) / ((v_max - v_min) / (atoms - 1))
    lower, upper = position.floor().long(), position.ceil().long()
    upper_share = position - lower  # 0 where the value falls exactly on a support point
    projected = torch.zeros_like(probs)
    projected.scatter_add_(1, lower, probs * (1 - upper_share))
    projected.scatter_add_(1, upper, probs * upper_share)
    return projected


DQNTorchPolicy = build_torch_policy(
    name="DQNTorchPolicy",
    make_model=make_q_network,
    loss_fn=q_loss,
    **POLICY_TEMPLATE,
)

SimpleQTorchPolicy = DQNTorchPolicy.with_updates(
    name="SimpleQTorchPolicy", get_default_config=simple_q_config
)
