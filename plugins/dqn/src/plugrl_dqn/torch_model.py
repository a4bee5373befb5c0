"""The Q-network of DQN and SimpleQ on torch.

Weight names (``i`` counts layers from 0, input side first):

=============================  =============================================================
``hidden.i.*``                 the observation trunk, one per ``model.fcnet_hiddens`` entry
``advantage_hidden.i.*``       the Q head's hidden layers (``hiddens``)
``advantage_out.*``            ``[num_actions * num_atoms, in]``: Q-values (or return-distribution
                               logits), or advantages when dueling
``value_hidden.i.*``           with ``dueling``: the state-value stream's hidden layers
``value_out.*``                with ``dueling``: ``[num_atoms, in]``
``base.*``                     instead of ``hidden.*``: a ``custom_model`` (or, for images,
                               the vision network) used as the trunk
=============================  =============================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from plugrl.config import MODEL_DEFAULTS
from plugrl.env.preprocessors import is_image_space
from plugrl_dqn.q_model import check_discrete, q_network_args, trunk_size
from plugrl_torch.models import TorchModelV2, get_activation_fn, get_model, hidden_layers, linear


class QNetwork(TorchModelV2):
    """``forward`` returns Q-values ``[B, num_actions]``.

    Args:
        q_hiddens: sizes of the Q head's hidden layers (ReLU), on top of the trunk.
        dueling: split the head into state-value and advantage streams,
            ``Q = V + A - mean(A)``.
        num_atoms, v_min, v_max: with ``num_atoms > 1`` the head predicts a categorical
            distribution of returns on ``num_atoms`` evenly spaced values in
            ``[v_min, v_max]`` (C51); Q-values are its means, and the logits of the last
            forward pass are in ``last_logits`` (``[B, num_actions, num_atoms]``).
    """

    def __init__(
        self,
        obs_space: gym.Space,
        action_space: gym.Space,
        num_outputs: int,
        model_config: dict,
        name: str,
        *,
        q_hiddens: Sequence[int] = (),
        dueling: bool = False,
        num_atoms: int = 1,
        v_min: float = -10.0,
        v_max: float = 10.0,
    ):
        super().__init__(obs_space, action_space, num_outputs, model_config, name)
        config = {**MODEL_DEFAULTS, **model_config}
        self.trunk_activation = get_activation_fn(config["fcnet_activation"])()
        if config.get("custom_model") or is_image_space(obs_space):
            # images: the vision network's trunk (one conv tower; its value head is unused)
            trunk_config = {**model_config, "vf_share_layers": True}
            self.base = get_model(obs_space, action_space, None, trunk_config, "base")
            features = trunk_size(self.base, config["custom_model"])
        else:
            sizes = [int(h) for h in config["fcnet_hiddens"]]
            self.hidden = hidden_layers(int(np.prod(obs_space.shape)), sizes)
            features = sizes[-1] if sizes else int(np.prod(obs_space.shape))
        q_hiddens = [int(h) for h in q_hiddens]
        self.dueling = dueling
        self.advantage_hidden = hidden_layers(features, q_hiddens)
        head_in = q_hiddens[-1] if q_hiddens else features
        self.num_atoms = int(num_atoms)
        self.advantage_out = linear(head_in, num_outputs * self.num_atoms, 0.01)
        if dueling:
            self.value_hidden = hidden_layers(features, q_hiddens)
            self.value_out = linear(head_in, self.num_atoms, 1.0)
        self.register_buffer(
            "support", torch.linspace(v_min, v_max, self.num_atoms), persistent=False
        )
        self.last_logits: torch.Tensor | None = None

    def forward(
        self, input_dict: dict[str, Any], state: list[torch.Tensor], seq_lens: torch.Tensor | None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        obs = input_dict["obs"].float()
        if hasattr(self, "base"):
            features, _ = self.base(input_dict, state, seq_lens)
        else:
            features = _run(self.hidden, obs.reshape(obs.shape[0], -1), self.trunk_activation)
        out = self.advantage_out.forward(_run(self.advantage_hidden, features, torch.relu))
        if self.dueling:
            value = self.value_out.forward(_run(self.value_hidden, features, torch.relu))
        if self.num_atoms == 1:
            if self.dueling:
                out = value + out - out.mean(dim=-1, keepdim=True)
            return out, state
        logits = out.reshape(out.shape[0], -1, self.num_atoms)
        if self.dueling:  # per atom: V + A - mean over actions of A
            logits = value.unsqueeze(1) + logits - logits.mean(dim=1, keepdim=True)
        self.last_logits = logits
        return (torch.softmax(logits, dim=-1) * self.support).sum(dim=-1), state


def _run(layers: nn.ModuleList, x: torch.Tensor, activation: Any) -> torch.Tensor:
    for layer in layers:
        x = activation(layer.forward(x))
    return x


def make_q_network(policy: Any, obs_space: gym.Space, action_space: gym.Space, config: dict):
    """The Q-network for a DQN-family config (``hiddens`` and ``dueling`` default to SimpleQ's
    plain head)."""
    check_discrete(action_space)
    return QNetwork(
        obs_space,
        action_space,
        int(action_space.n),
        config["model"],
        "q_network",
        **q_network_args(config),
    )
