"""Recurrent TF models: :class:`LSTMWrapper` (``model.use_lstm``) around any model, and
:func:`get_model`, the backend's model builder, which wraps the model a config asks for.

The wrapper has exactly the torch backend's weights, under the same names and layouts (see
``plugrl_torch.recurrent``): the wrapped model's under ``base.``, the LSTM's as torch's
``nn.LSTM`` keeps them (gates input, forget, cell, output; two biases), then ``policy_out.*``
and ``value_out.*``; so weights cross between frameworks as they are.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.models.recurrent import base_model_config, check_base, prev_action_size, wrapper_config
from plugrl.sample_batch import SampleBatch
from plugrl_tf._tf import tf
from plugrl_tf.models import TFModelV2, dense
from plugrl_tf.models import get_model as get_feedforward_model


class LSTMWrapper(TFModelV2):
    """An LSTM over the features of a wrapped (feed-forward) model, with its own policy and
    value heads: the TF twin of ``plugrl_torch.recurrent.LSTMWrapper`` (same inputs, outputs
    and state ``[h, c]``)."""

    def __init__(
        self,
        obs_space: gym.Space,
        action_space: gym.Space,
        num_outputs: int | None,
        model_config: dict,
        name: str,
        base: TFModelV2,
    ):
        super().__init__(obs_space, action_space, num_outputs, model_config, name)
        self.base = base
        if not base.variables():  # a Keras model makes its variables on its first call
            obs = np.zeros((1, *obs_space.shape), np.float32)
            base({SampleBatch.OBS: obs, "is_training": False}, [], None)
        for key, var in base.variables(as_dict=True).items():
            self._named[f"base.{key}"] = var
        self.cell_size = cell = int(model_config["lstm_cell_size"])
        self.uses_prev_actions = bool(model_config["lstm_use_prev_action"])
        self.uses_prev_rewards = bool(model_config["lstm_use_prev_reward"])
        self._action_size = prev_action_size(action_space) if self.uses_prev_actions else 0
        in_size = int(base.num_outputs) + self._action_size + int(self.uses_prev_rewards)
        bound = 1.0 / math.sqrt(cell)  # torch's nn.LSTM initialisation

        def uniform(*shape: int) -> tf.Tensor:
            return tf.random.uniform(shape, -bound, bound)

        self.weight_ih = self.create_variable("lstm.weight_ih_l0", uniform(4 * cell, in_size))
        self.weight_hh = self.create_variable("lstm.weight_hh_l0", uniform(4 * cell, cell))
        self.bias_ih = self.create_variable("lstm.bias_ih_l0", uniform(4 * cell))
        self.bias_hh = self.create_variable("lstm.bias_hh_l0", uniform(4 * cell))
        self.policy_out = self.linear("policy_out", cell, int(num_outputs), 0.01)
        self.value_out = self.linear("value_out", cell, 1, 1.0)
        self._features: tf.Tensor | None = None

    def get_initial_state(self) -> list[np.ndarray]:
        return [np.zeros(self.cell_size, np.float32), np.zeros(self.cell_size, np.float32)]

    def forward(
        self, input_dict: dict[str, Any], state: list[tf.Tensor], seq_lens: tf.Tensor | None
    ) -> tuple[tf.Tensor, list[tf.Tensor]]:
        features, _ = self.base(input_dict, [], None)
        parts = [tf.cast(features, tf.float32)]
        if self.uses_prev_actions:
            parts.append(self._encode_actions(input_dict[SampleBatch.PREV_ACTIONS]))
        if self.uses_prev_rewards:
            rewards = tf.cast(input_dict[SampleBatch.PREV_REWARDS], tf.float32)
            parts.append(tf.reshape(rewards, [-1, 1]))
        x = tf.concat(parts, axis=-1) if len(parts) > 1 else parts[0]
        rows = tf.shape(x)[0]
        sequences = rows if seq_lens is None else tf.shape(seq_lens)[0]
        # [N * T, in] -> time-major [T, N, 4 * cell], the input's part of the gates and biases
        x = tf.reshape(x, [sequences, rows // sequences, x.shape[-1]])
        gates_in = tf.transpose(dense(x, self.weight_ih, self.bias_ih) + self.bias_hh, [1, 0, 2])
        h0 = tf.cast(state[0], tf.float32)
        c0 = tf.cast(state[1], tf.float32)
        hs, cs = tf.scan(self._step, gates_in, initializer=(h0, c0))
        self._features = tf.reshape(tf.transpose(hs, [1, 0, 2]), [rows, self.cell_size])
        return dense(self._features, *self.policy_out), [hs[-1], cs[-1]]

    def _step(self, carry: tuple[tf.Tensor, tf.Tensor], gates_in: tf.Tensor) -> tuple:
        h, c = carry
        gates = gates_in + tf.matmul(h, self.weight_hh, transpose_b=True)
        i, f, g, o = tf.split(gates, 4, axis=-1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        return tf.sigmoid(o) * tf.tanh(c), c

    def value_function(self) -> tf.Tensor:
        if self._features is None:
            raise RuntimeError("value_function() needs a forward pass first.")
        return tf.squeeze(dense(self._features, *self.value_out), axis=1)

    def _encode_actions(self, actions: tf.Tensor) -> tf.Tensor:
        space = self.action_space
        if isinstance(space, gym.spaces.Discrete):
            return tf.one_hot(tf.cast(tf.reshape(actions, [-1]), tf.int32), int(space.n))
        if isinstance(space, gym.spaces.MultiDiscrete):
            nvec = np.ravel(space.nvec)
            actions = tf.cast(tf.reshape(actions, [-1, len(nvec)]), tf.int32)
            return tf.concat([tf.one_hot(actions[:, i], int(n)) for i, n in enumerate(nvec)], -1)
        return tf.reshape(tf.cast(actions, tf.float32), [-1, self._action_size])


def get_model(
    obs_space: gym.Space,
    action_space: gym.Space,
    num_outputs: int | None,
    model_config: dict,
    name: str = "model",
) -> TFModelV2:
    """The model ``model_config`` asks for (see :func:`plugrl_tf.models.get_model`), in an
    :class:`LSTMWrapper` with ``use_lstm``."""
    if not model_config.get("use_lstm"):
        return get_feedforward_model(obs_space, action_space, num_outputs, model_config, name)
    config = wrapper_config(model_config, num_outputs)
    base = get_feedforward_model(obs_space, action_space, None, base_model_config(config), name)
    check_base(base, config)
    return LSTMWrapper(obs_space, action_space, num_outputs, config, name, base=base)
