"""An example model for action masking: Dict observations ``{"action_mask": [n] 0/1,
"observations": ...}``; actions whose mask is 0 get the lowest logit, so they are never
sampled. Register it with ``ModelCatalog.register_custom_model(name, ActionMaskModel)``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch

from plugrl.env.preprocessors import split_flat
from plugrl.models.action_mask import check_mask_space
from plugrl_torch.models import FullyConnectedNetwork, TorchModelV2


class ActionMaskModel(TorchModelV2):
    """The default fully connected network on the ``"observations"`` (or ``"observation"``) part,
    with the logits of masked-out actions set to the lowest float. Weight names: ``inner.*``
    (the network's)."""

    def __init__(
        self,
        obs_space: gym.Space,
        action_space: gym.Space,
        num_outputs: int | None,
        model_config: dict,
        name: str,
    ):
        super().__init__(obs_space, action_space, num_outputs, model_config, name)
        self.original_space, self.obs_key, inner_size = check_mask_space(obs_space, action_space)
        inner_space = gym.spaces.Box(-np.inf, np.inf, (inner_size,), np.float32)
        self.inner = FullyConnectedNetwork(
            inner_space, action_space, num_outputs, model_config, f"{name}_inner"
        )

    def forward(
        self, input_dict: dict[str, Any], state: list[torch.Tensor], seq_lens: torch.Tensor | None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        parts = split_flat(input_dict["obs"].float(), self.original_space)
        logits, _ = self.inner({"obs": parts[self.obs_key]}, state, seq_lens)
        lowest = torch.finfo(logits.dtype).min
        return logits.masked_fill(parts["action_mask"] < 0.5, lowest), state

    def value_function(self) -> torch.Tensor:
        return self.inner.value_function()
