"""An example model for action masking, in TF: ``plugrl_torch.action_mask``'s model, with the
same network. Register it with ``ModelCatalog.register_custom_model(name, ActionMaskModel)``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.env.preprocessors import split_flat
from plugrl.models.action_mask import check_mask_space
from plugrl_tf._tf import tf
from plugrl_tf.models import FullyConnectedNetwork, TFModelV2


class ActionMaskModel(TFModelV2):
    """The default fully connected network on the ``"observations"`` (or ``"observation"``) part,
    with the logits of masked-out actions set to the lowest float."""

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
        self.register_variables(self.inner.variables())

    def forward(
        self, input_dict: dict[str, Any], state: list[tf.Tensor], seq_lens: tf.Tensor | None
    ) -> tuple[tf.Tensor, list[tf.Tensor]]:
        parts = split_flat(tf.cast(input_dict["obs"], tf.float32), self.original_space)
        logits, _ = self.inner({"obs": parts[self.obs_key]}, state, seq_lens)
        lowest = tf.fill(tf.shape(logits), logits.dtype.min)
        return tf.where(parts["action_mask"] < 0.5, lowest, logits), state

    def value_function(self) -> tf.Tensor:
        return self.inner.value_function()
