"""Recurrent torch models: :class:`LSTMWrapper` (``model.use_lstm``) around any model, and
:func:`get_model`, the backend's model builder, which wraps the model a config asks for.

Weight names: the wrapped model's under ``base.``, then ``lstm.weight_ih_l0`` (``[4 * cell,
in]``), ``lstm.weight_hh_l0`` (``[4 * cell, cell]``), ``lstm.bias_ih_l0``, ``lstm.bias_hh_l0``
(``[4 * cell]``; gates in torch's order: input, forget, cell, output), ``policy_out.*`` and
``value_out.*``. The TF backend's wrapper has the same weights under the same names.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from plugrl.models.recurrent import base_model_config, check_base, prev_action_size, wrapper_config
from plugrl.sample_batch import SampleBatch
from plugrl_torch.models import TorchModelV2, linear
from plugrl_torch.models import get_model as get_feedforward_model


class LSTMWrapper(TorchModelV2):
    """An LSTM over the features of a wrapped (feed-forward) model, with its own policy and
    value heads.

    ``forward`` takes ``[N * T, ...]`` inputs (``N`` sequences padded to ``T`` steps, ``T`` =
    rows // len(seq_lens)) and the ``[N, cell]`` states ``[h, c]``; when acting, each row is a
    sequence of one step. With ``lstm_use_prev_action`` / ``lstm_use_prev_reward`` the
    previous action (one-hot when discrete) and reward join the LSTM's input.
    """

    def __init__(
        self,
        obs_space: gym.Space,
        action_space: gym.Space,
        num_outputs: int | None,
        model_config: dict,
        name: str,
        base: nn.Module,
    ):
        super().__init__(obs_space, action_space, num_outputs, model_config, name)
        self.base = base
        self.cell_size = int(model_config["lstm_cell_size"])
        self.uses_prev_actions = bool(model_config["lstm_use_prev_action"])
        self.uses_prev_rewards = bool(model_config["lstm_use_prev_reward"])
        self._action_size = prev_action_size(action_space) if self.uses_prev_actions else 0
        in_size = int(base.num_outputs) + self._action_size + int(self.uses_prev_rewards)
        self.lstm = nn.LSTM(in_size, self.cell_size, batch_first=True)
        self.policy_out = linear(self.cell_size, int(num_outputs), 0.01)
        self.value_out = linear(self.cell_size, 1, 1.0)
        self._features: torch.Tensor | None = None

    def get_initial_state(self) -> list[torch.Tensor]:
        weight = self.value_out.weight
        return [weight.new_zeros(self.cell_size), weight.new_zeros(self.cell_size)]

    def forward(
        self, input_dict: dict[str, Any], state: list[torch.Tensor], seq_lens: torch.Tensor | None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        features, _ = self.base(input_dict, [], None)
        parts = [features]
        if self.uses_prev_actions:
            parts.append(self._encode_actions(input_dict[SampleBatch.PREV_ACTIONS]))
        if self.uses_prev_rewards:
            parts.append(input_dict[SampleBatch.PREV_REWARDS].float().reshape(-1, 1))
        x = torch.cat(parts, dim=-1) if len(parts) > 1 else features
        rows = x.shape[0]
        sequences = rows if seq_lens is None else seq_lens.shape[0]
        x = x.reshape(sequences, rows // sequences, x.shape[-1])
        out, (h, c) = self.lstm(x, (state[0][None], state[1][None]))
        self._features = out.reshape(rows, self.cell_size)
        return self.policy_out(self._features), [h[0], c[0]]

    def value_function(self) -> torch.Tensor:
        if self._features is None:
            raise RuntimeError("value_function() needs a forward pass first.")
        return self.value_out(self._features).squeeze(-1)

    def _encode_actions(self, actions: torch.Tensor) -> torch.Tensor:
        space = self.action_space
        if isinstance(space, gym.spaces.Discrete):
            return nn.functional.one_hot(actions.long().reshape(-1), int(space.n)).float()
        if isinstance(space, gym.spaces.MultiDiscrete):
            actions = actions.long().reshape(actions.shape[0], -1)
            return torch.cat(
                [
                    nn.functional.one_hot(actions[:, i], int(n)).float()
                    for i, n in enumerate(np.ravel(space.nvec))
                ],
                dim=-1,
            )
        return actions.float().reshape(actions.shape[0], -1)


def get_model(
    obs_space: gym.Space,
    action_space: gym.Space,
    num_outputs: int | None,
    model_config: dict,
    name: str = "model",
) -> nn.Module:
    """The model ``model_config`` asks for (see :func:`plugrl_torch.models.get_model`), in an
    :class:`LSTMWrapper` with ``use_lstm``."""
    if not model_config.get("use_lstm"):
        return get_feedforward_model(obs_space, action_space, num_outputs, model_config, name)
    config = wrapper_config(model_config, num_outputs)
    base = get_feedforward_model(obs_space, action_space, None, base_model_config(config), name)
    check_base(base, config)
    return LSTMWrapper(obs_space, action_space, num_outputs, config, name, base=base)
