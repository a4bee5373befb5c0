"""The Q-network of DQN and SimpleQ on TF: the torch Q-network's weights, under the same
names and in the same ``[out, in]`` layout (see :mod:`plugrl_dqn.torch_model`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.config import MODEL_DEFAULTS
from plugrl.env.preprocessors import is_image_space
from plugrl.models.fcnet import HIDDEN_GAIN
from plugrl_dqn.q_model import check_discrete, q_network_args, trunk_size
from plugrl_tf._tf import tf
from plugrl_tf.models import TFModelV2, dense, get_activation_fn, get_model


class QNetwork(TFModelV2):
    """``forward`` returns Q-values ``[B, num_actions]``; arguments as the torch
    :class:`plugrl_dqn.torch_model.QNetwork`."""

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
        self.trunk_activation = get_activation_fn(config["fcnet_activation"])
        self.base: TFModelV2 | None = None
        if config.get("custom_model") or is_image_space(obs_space):
            # images: the vision network's trunk (one conv tower; its value head is unused)
            trunk_config = {**model_config, "vf_share_layers": True}
            self.base = get_model(obs_space, action_space, None, trunk_config, "base")
            features = trunk_size(self.base, config["custom_model"])
            self.register_variables(self.base.variables())
        else:
            sizes = [int(h) for h in config["fcnet_hiddens"]]
            obs_dim = int(np.prod(obs_space.shape))
            self.hidden = self.hidden_layers("hidden", obs_dim, sizes, [HIDDEN_GAIN] * len(sizes))
            features = sizes[-1] if sizes else obs_dim
        q_hiddens = [int(h) for h in q_hiddens]
        gains = [HIDDEN_GAIN] * len(q_hiddens)
        head_in = q_hiddens[-1] if q_hiddens else features
        self.dueling = dueling
        self.num_atoms = int(num_atoms)
        self.advantage_hidden = self.hidden_layers("advantage_hidden", features, q_hiddens, gains)
        self.advantage_out = self.linear(
            "advantage_out", head_in, num_outputs * self.num_atoms, 0.01
        )
        if dueling:
            self.value_hidden = self.hidden_layers("value_hidden", features, q_hiddens, gains)
            self.value_out = self.linear("value_out", head_in, self.num_atoms, 1.0)
        self.support = tf.linspace(float(v_min), float(v_max), self.num_atoms)
        self.last_logits: tf.Tensor | None = None

    def forward(
        self, input_dict: dict[str, Any], state: list[tf.Tensor], seq_lens: tf.Tensor | None
    ) -> tuple[tf.Tensor, list[tf.Tensor]]:
        obs = tf.cast(input_dict["obs"], tf.float32)
        if self.base is not None:
            features, _ = self.base(input_dict, state, seq_lens)
        else:
            features = _run(
                self.hidden, tf.reshape(obs, [tf.shape(obs)[0], -1]), self.trunk_activation
            )
        out = dense(_run(self.advantage_hidden, features, tf.nn.relu), *self.advantage_out)
        if self.dueling:
            value = dense(_run(self.value_hidden, features, tf.nn.relu), *self.value_out)
        if self.num_atoms == 1:
            if self.dueling:
                out = value + out - tf.reduce_mean(out, axis=-1, keepdims=True)
            return out, state
        logits = tf.reshape(out, [tf.shape(out)[0], -1, self.num_atoms])
        if self.dueling:  # per atom: V + A - mean over actions of A
            logits = value[:, None] + logits - tf.reduce_mean(logits, axis=1, keepdims=True)
        self.last_logits = logits
        return tf.reduce_sum(tf.nn.softmax(logits) * self.support, axis=-1), state


def _run(layers: list[tuple[Any, Any]], x: tf.Tensor, activation: Any) -> tf.Tensor:
    for weight, bias in layers:
        x = activation(dense(x, weight, bias))
    return x


def make_q_network(policy: Any, obs_space: gym.Space, action_space: gym.Space, config: dict):
    """The TF Q-network for a DQN-family config."""
    check_discrete(action_space)
    return QNetwork(
        obs_space,
        action_space,
        int(action_space.n),
        config["model"],
        "q_network",
        **q_network_args(config),
    )
