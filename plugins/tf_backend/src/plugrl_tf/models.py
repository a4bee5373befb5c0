"""TF models: the :class:`TFModelV2` base, the default fully connected and vision networks,
and :func:`get_model`, which builds the model a config asks for.

Weight names
------------
:class:`FullyConnectedNetwork` has exactly the weights of the torch backend's network, under the
same names and in the same ``[out, in]`` layout (see ``plugrl_torch.models``): its kernels are
kept transposed relative to Keras ``Dense`` and applied with ``matmul(x, w, transpose_b=True)``,
so weights cross between frameworks as they are. Likewise :class:`VisionNetwork`'s
convolution weights are kept in torch's ``[out, in, kernel_h, kernel_w]`` layout (transposed
when applied), and its features are flattened channels first, as torch's are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.env.preprocessors import is_image_space
from plugrl.errors import ConfigError, did_you_mean
from plugrl.models import build_model
from plugrl.models.fcnet import HIDDEN_GAIN, fcnet_layout
from plugrl.models.recurrent import prev_inputs
from plugrl.models.visionnet import VisionLayout, vision_layout
from plugrl_tf._tf import tf

ACTIVATIONS: dict[str | None, Callable[[tf.Tensor], tf.Tensor]] = {
    "tanh": tf.tanh,
    "relu": tf.nn.relu,
    "elu": tf.nn.elu,
    "swish": tf.nn.silu,
    "linear": tf.identity,
    None: tf.identity,
}


def get_activation_fn(name: str | None) -> Callable[[tf.Tensor], tf.Tensor]:
    """The TF function of a ``fcnet_activation`` name (``None`` means linear)."""
    if name not in ACTIVATIONS:
        choices = [k for k in ACTIVATIONS if k]
        raise ConfigError(
            f"Unknown fcnet_activation {name!r}.{did_you_mean(str(name), choices)} "
            f"Choose one of: {', '.join(choices)}."
        )
    return ACTIVATIONS[name]


class TFModelV2:
    """Base of TF models: ``forward(input_dict, state, seq_lens) -> (outputs, state)`` and
    ``value_function() -> [B]`` for the batch last passed to ``forward``.

    Variables are found without registration: those made with :meth:`create_variable` (named),
    those passed to :meth:`register_variables`, and those of attributes that are
    ``tf.Variable``, ``tf.Module`` or Keras layers/models. A Keras model builds its variables
    on its first call; the policy calls the model once at construction for that. A recurrent
    model returns its state from :meth:`get_initial_state` (see ``docs/recurrent.md``).
    """

    uses_prev_actions: bool = False
    """Whether ``input_dict`` should hold ``"prev_actions"`` (the step before's actions)."""
    uses_prev_rewards: bool = False
    """Whether ``input_dict`` should hold ``"prev_rewards"`` (the step before's rewards)."""

    def __init__(
        self,
        obs_space: gym.Space,
        action_space: gym.Space,
        num_outputs: int | None,
        model_config: dict,
        name: str,
    ):
        self.obs_space = obs_space
        self.action_space = action_space
        self.num_outputs = num_outputs
        self.model_config = model_config
        self.name = name
        self._named: dict[str, tf.Variable] = {}
        self._registered: list[Any] = []

    def forward(
        self, input_dict: dict[str, Any], state: list[tf.Tensor], seq_lens: tf.Tensor | None
    ) -> tuple[tf.Tensor, list[tf.Tensor]]:
        """``(outputs [B, num_outputs], new state)`` for a batch of observations."""
        raise NotImplementedError

    def value_function(self) -> tf.Tensor:
        """Value estimates ``[B]`` for the batch last passed to :meth:`forward`."""
        raise NotImplementedError

    def get_initial_state(self) -> list[np.ndarray]:
        """Initial recurrent state: empty for feed-forward models."""
        return []

    def __call__(
        self,
        input_dict: dict[str, Any],
        state: list[tf.Tensor] | None = None,
        seq_lens: tf.Tensor | None = None,
    ) -> tuple[tf.Tensor, list[tf.Tensor]]:
        return self.forward(input_dict, state or [], seq_lens)

    def from_batch(
        self, train_batch: Mapping[str, Any], is_training: bool = True
    ) -> tuple[tf.Tensor, list[tf.Tensor]]:
        """Run the model on ``train_batch["obs"]`` (numpy or tensor, as float32), and, for a
        recurrent model, on its ``state_in_*`` and ``seq_lens``; ``prev_actions`` /
        ``prev_rewards`` go in when ``uses_prev_actions`` / ``uses_prev_rewards`` ask for
        them."""
        obs = tf.cast(train_batch["obs"], tf.float32)
        input_dict = {"obs": obs, "is_training": is_training, **prev_inputs(self, train_batch)}
        state = [train_batch[f"state_in_{i}"] for i in range(len(self.get_initial_state()))]
        return self(input_dict, state, train_batch.get("seq_lens") if state else None)

    # --- variables --------------------------------------------------------------------------

    def create_variable(self, name: str, initial_value: Any, trainable: bool = True) -> tf.Variable:
        """A float32 variable reported under ``name`` by :meth:`variables`."""
        if name in self._named:
            raise ValueError(f"{type(self).__name__} already has a variable named {name!r}")
        var = tf.Variable(tf.cast(initial_value, tf.float32), trainable=trainable, name=name)
        self._named[name] = var
        return var

    def register_variables(self, variables: Iterable[Any]) -> None:
        """Add variables the automatic search would not find (RLlib-style models call it)."""
        self._registered.extend(variables)

    def variables(self, as_dict: bool = False) -> list[Any] | dict[str, Any]:
        """Every variable of the model, in a stable order (as a name -> variable dict)."""
        named = dict(self._named)
        seen = {id(v) for v in named.values()}
        for var in [*self._registered, *self._attribute_variables()]:
            if id(var) in seen:
                continue
            seen.add(id(var))
            name = _variable_name(var)
            while name in named:
                name += "_"
            named[name] = var
        return named if as_dict else list(named.values())

    def trainable_variables(self, as_dict: bool = False) -> list[Any] | dict[str, Any]:
        """The variables gradients flow into."""
        named = {k: v for k, v in self.variables(as_dict=True).items() if v.trainable}
        return named if as_dict else list(named.values())

    def linear(
        self, prefix: str, in_size: int, out_size: int, gain: float
    ) -> tuple[tf.Variable, tf.Variable]:
        """Variables ``<prefix>.weight`` (``[out, in]``, orthogonal values of ``gain``) and
        ``<prefix>.bias`` (zeros) of a linear layer, for :func:`dense`."""
        weight = self.create_variable(f"{prefix}.weight", orthogonal(out_size, in_size, gain))
        bias = self.create_variable(f"{prefix}.bias", tf.zeros([out_size]))
        return weight, bias

    def hidden_layers(
        self, prefix: str, in_size: int, sizes: list[int], gains: list[float]
    ) -> list[tuple[tf.Variable, tf.Variable]]:
        """:meth:`linear` layers ``<prefix>.<i>`` of the given sizes and gains, in order."""
        ins = [in_size, *sizes][: len(sizes)]
        return [
            self.linear(f"{prefix}.{i}", i_size, o_size, gain)
            for i, (i_size, o_size, gain) in enumerate(zip(ins, sizes, gains, strict=True))
        ]

    def _attribute_variables(self) -> list[Any]:
        found: list[Any] = []
        for value in vars(self).values():
            if isinstance(value, tf.Variable):
                found.append(value)
            elif isinstance(value, tf.Module) or _is_keras_layer(value):
                found.extend(value.variables)
        return found


def _is_keras_layer(value: Any) -> bool:
    """Whether ``value`` is a Keras layer or model (without importing Keras to find out)."""
    return hasattr(value, "variables") and any(
        klass.__module__.split(".")[0] in ("keras", "tf_keras") for klass in type(value).__mro__
    )


def _variable_name(var: Any) -> str:
    """A Keras variable's path, or a tf.Variable's name without its ``:0`` suffix."""
    name = getattr(var, "path", None) or var.name
    return name.rsplit(":", 1)[0]


class FullyConnectedNetwork(TFModelV2):
    """Multi-layer perceptron with a policy head and a value head; the torch backend's
    network, in TF.

    Reads ``fcnet_hiddens``, ``fcnet_activation``, ``vf_share_layers``, ``free_log_std`` and
    ``no_final_linear`` from ``model_config`` (missing keys take :data:`MODEL_DEFAULTS`).
    Observations are flattened. With ``num_outputs`` of ``None`` or 0 the outputs are the last
    hidden layer's.
    """

    def __init__(
        self,
        obs_space: gym.Space,
        action_space: gym.Space,
        num_outputs: int | None,
        model_config: dict,
        name: str,
    ):
        super().__init__(obs_space, action_space, num_outputs, model_config, name)
        layout = fcnet_layout(obs_space, num_outputs, model_config)
        self.num_outputs = layout.num_outputs
        self.activation = get_activation_fn(layout.activation)
        self.vf_share_layers = layout.vf_share_layers
        self.free_log_std = layout.free_log_std
        gains = [HIDDEN_GAIN] * len(layout.policy_sizes)
        if layout.final_hidden:
            gains[-1] = 0.01
        self.policy_hidden = self.hidden_layers(
            "policy_hidden", layout.obs_dim, layout.policy_sizes, gains
        )
        self.policy_out: tuple[tf.Variable, tf.Variable] | None = None
        if layout.has_policy_out:
            self.policy_out = self.linear("policy_out", layout.trunk_size, layout.num_means, 0.01)
        if not self.vf_share_layers:
            sizes = layout.value_sizes
            self.value_hidden = self.hidden_layers(
                "value_hidden", layout.obs_dim, sizes, [HIDDEN_GAIN] * len(sizes)
            )
        self.value_out = self.linear("value_out", layout.value_in, 1, 1.0)
        if self.free_log_std:
            self.log_std = self.create_variable("log_std", tf.zeros([layout.num_means]))

        self._obs: tf.Tensor | None = None
        self._features: tf.Tensor | None = None

    def forward(
        self, input_dict: dict[str, Any], state: list[tf.Tensor], seq_lens: tf.Tensor | None
    ) -> tuple[tf.Tensor, list[tf.Tensor]]:
        self._obs = self._encode(input_dict["obs"])
        self._features = self._run(self.policy_hidden, self._obs)
        out = self._features
        if self.policy_out is not None:
            out = dense(out, *self.policy_out)
        if self.free_log_std:
            log_std = tf.tile(self.log_std[None], [tf.shape(out)[0], 1])
            out = tf.concat([out, log_std], axis=-1)
        return out, state

    def value_function(self) -> tf.Tensor:
        if self._obs is None:
            raise RuntimeError("value_function() needs a forward pass first.")
        if self.vf_share_layers:
            features = self._features
        else:
            features = self._run(self.value_hidden, self._value_input())
        return tf.squeeze(dense(features, *self.value_out), axis=1)

    def _encode(self, obs: tf.Tensor) -> tf.Tensor:
        """The input of the policy's hidden layers: the observations, flattened."""
        if isinstance(obs, tf.Tensor) and obs.dtype == tf.float32 and obs.shape.rank == 2:
            return obs  # as the policies pass them: four kernels fewer per traced call
        obs = tf.cast(obs, tf.float32)
        return tf.reshape(obs, [tf.shape(obs)[0], -1])

    def _value_input(self) -> tf.Tensor:
        """The input of the value branch's hidden layers (without ``vf_share_layers``)."""
        return self._obs

    def _run(self, layers: list[tuple[tf.Variable, tf.Variable]], x: tf.Tensor) -> tf.Tensor:
        for weight, bias in layers:
            x = self.activation(dense(x, weight, bias))
        return x


def dense(x: tf.Tensor, weight: tf.Variable, bias: tf.Variable) -> tf.Tensor:
    """``x @ weight.T + bias`` for a ``[out, in]`` weight."""
    return tf.matmul(x, weight, transpose_b=True) + bias


def orthogonal(rows: int, cols: int, gain: float) -> tf.Tensor:
    """A ``[rows, cols]`` matrix with orthonormal rows or columns, times ``gain``."""
    flat = tf.random.normal([max(rows, cols), min(rows, cols)])
    q, r = tf.linalg.qr(flat)
    q = q * tf.sign(tf.linalg.diag_part(r))
    return gain * (q if rows >= cols else tf.transpose(q))


class VisionNetwork(FullyConnectedNetwork):
    """Convolutions on ``[B, H, W, C]`` images (integer pixels scaled to [0, 1]), then the
    fully connected network on their flattened output; the torch backend's network, in TF."""

    def __init__(
        self,
        obs_space: gym.Space,
        action_space: gym.Space,
        num_outputs: int | None,
        model_config: dict,
        name: str,
    ):
        layout = vision_layout(obs_space, model_config)
        super().__init__(layout.feature_space, action_space, num_outputs, model_config, name)
        self.obs_space = obs_space
        self.scale = layout.scale
        self.conv_activation = get_activation_fn(layout.activation)
        self.strides = [spec.stride for spec in layout.layers]
        self.policy_conv = self._conv_layers("policy_conv", layout)
        if not self.vf_share_layers:
            self.value_conv = self._conv_layers("value_conv", layout)
        self._images: tf.Tensor | None = None

    def _encode(self, obs: tf.Tensor) -> tf.Tensor:
        images = tf.cast(obs, tf.float32) * self.scale
        if images.shape.rank == 3:  # [B, H, W]: one channel
            images = images[..., None]
        self._images = images
        return self._convolve(self.policy_conv, images)

    def _value_input(self) -> tf.Tensor:
        return self._convolve(self.value_conv, self._images)

    def _convolve(self, layers: list, x: tf.Tensor) -> tf.Tensor:
        for (weight, bias), stride in zip(layers, self.strides, strict=True):
            kernel = tf.transpose(weight, [2, 3, 1, 0])
            x = self.conv_activation(tf.nn.conv2d(x, kernel, stride, "VALID") + bias)
        x = tf.transpose(x, [0, 3, 1, 2])  # flatten as torch does: channels first
        return tf.reshape(x, [tf.shape(x)[0], -1])

    def _conv_layers(self, prefix: str, layout: VisionLayout) -> list:
        layers = []
        for i, spec in enumerate(layout.layers):
            fan_in = spec.in_channels * spec.kernel[0] * spec.kernel[1]
            shape = [spec.out_channels, spec.in_channels, *spec.kernel]
            weight = tf.reshape(orthogonal(spec.out_channels, fan_in, HIDDEN_GAIN), shape)
            layers.append(
                (
                    self.create_variable(f"{prefix}.{i}.weight", weight),
                    self.create_variable(f"{prefix}.{i}.bias", tf.zeros([spec.out_channels])),
                )
            )
        return layers


def get_model(
    obs_space: gym.Space,
    action_space: gym.Space,
    num_outputs: int | None,
    model_config: dict,
    name: str = "model",
) -> TFModelV2:
    """The model ``model_config`` asks for: its ``custom_model`` (a registered name or a class),
    built with ``custom_model_config`` as keyword arguments when its ``__init__`` takes them, or
    else a :class:`VisionNetwork` for images and a
    :class:`FullyConnectedNetwork` for everything else."""
    return build_model(
        obs_space,
        action_space,
        num_outputs,
        model_config,
        name,
        default=VisionNetwork if is_image_space(obs_space) else FullyConnectedNetwork,
        base=TFModelV2,
        backend="tf",
        base_hint="plugrl_tf.models.TFModelV2",
    )
