"""Torch models: the :class:`TorchModelV2` base, the default fully connected and vision
networks, and :func:`get_model`, which builds the model a config asks for.

Weight names
------------
Weights travel between workers, checkpoints and frameworks as ``dict[str, np.ndarray]`` keyed by
``state_dict()`` names. :class:`FullyConnectedNetwork` uses these names, which another backend's
network must mirror (``i`` counts hidden layers from 0, input side first):

==========================  ======================  ============================================
name                        shape                   present
==========================  ======================  ============================================
``policy_hidden.i.weight``  ``[out, in]``           one per hidden layer (the shared trunk with
``policy_hidden.i.bias``    ``[out]``               ``vf_share_layers``)
``policy_out.weight``       ``[num_outputs, in]``   unless ``no_final_linear`` or no
``policy_out.bias``         ``[num_outputs]``       ``num_outputs`` (``num_outputs // 2`` rows
                                                    with ``free_log_std``)
``value_hidden.i.weight``   ``[out, in]``           unless ``vf_share_layers``
``value_hidden.i.bias``     ``[out]``
``value_out.weight``        ``[1, in]``             always
``value_out.bias``          ``[1]``
``log_std``                 ``[num_outputs // 2]``  with ``free_log_std``
==========================  ======================  ============================================

:class:`VisionNetwork` has these too, after its convolutions: ``policy_conv.i.weight``
(``[out_channels, in_channels, kernel_h, kernel_w]``) and ``policy_conv.i.bias``, and
``value_conv.i.*`` likewise unless ``vf_share_layers``.

Weights are in torch's ``[out, in]`` layout: a Keras ``Dense`` kernel is the transpose. With
``no_final_linear`` the last ``policy_hidden`` layer is the output layer (as wide as
``policy_out`` would be).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import torch
from torch import nn
from torch.nn import functional as F
from torch.optim.optimizer import register_optimizer_step_post_hook

from plugrl.env.preprocessors import is_image_space
from plugrl.errors import ConfigError, did_you_mean
from plugrl.models import build_model
from plugrl.models.fcnet import HIDDEN_GAIN, fcnet_layout
from plugrl.models.recurrent import prev_inputs
from plugrl.models.visionnet import VisionLayout, vision_layout

ACTIVATIONS: dict[str | None, type[nn.Module]] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "swish": nn.SiLU,
    "linear": nn.Identity,
    None: nn.Identity,
}


def get_activation_fn(name: str | None) -> type[nn.Module]:
    """The ``nn.Module`` class of a ``fcnet_activation`` name (``None`` means linear)."""
    if name not in ACTIVATIONS:
        choices = [k for k in ACTIVATIONS if k]
        raise ConfigError(
            f"Unknown fcnet_activation {name!r}.{did_you_mean(str(name), choices)} "
            f"Choose one of: {', '.join(choices)}."
        )
    return ACTIVATIONS[name]


class TorchModelV2(nn.Module):
    """Base of torch models: ``forward(input_dict, state, seq_lens) -> (outputs, state)`` and
    ``value_function() -> [B]`` for the batch last passed to ``forward``.

    ``input_dict`` holds ``"obs"`` (a float tensor ``[B, *obs_space.shape]``) and
    ``"is_training"``; ``state`` is a list of recurrent state tensors (empty for feed-forward
    models) and ``seq_lens`` their sequence lengths (``None`` for feed-forward models). A
    recurrent model returns its state from :meth:`get_initial_state` (see
    ``docs/recurrent.md``).
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
        # RLlib-style subclasses may call nn.Module.__init__ themselves, before or after this.
        if "_parameters" not in self.__dict__:
            nn.Module.__init__(self)
        self.obs_space = obs_space
        self.action_space = action_space
        self.num_outputs = num_outputs
        self.model_config = model_config
        self.name = name

    def forward(
        self, input_dict: dict[str, Any], state: list[torch.Tensor], seq_lens: torch.Tensor | None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``(outputs [B, num_outputs], new state)`` for a batch of observations."""
        raise NotImplementedError

    def value_function(self) -> torch.Tensor:
        """Value estimates ``[B]`` for the batch last passed to :meth:`forward`."""
        raise NotImplementedError

    def get_initial_state(self) -> list[torch.Tensor]:
        """Initial recurrent state: empty for feed-forward models."""
        return []

    def from_batch(
        self, train_batch: Mapping[str, Any], is_training: bool = True
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Run the model on ``train_batch["obs"]`` (numpy or torch, moved to this model's
        device as float32), and, for a recurrent model, on its ``state_in_*`` and
        ``seq_lens``; ``prev_actions``/``prev_rewards`` go in when ``uses_prev_actions`` /
        ``uses_prev_rewards`` ask for them."""
        device = next(self.parameters(), torch.empty(0)).device
        obs = torch.as_tensor(train_batch["obs"], dtype=torch.float32, device=device)
        input_dict = {"obs": obs, "is_training": is_training, **prev_inputs(self, train_batch)}
        state = [
            torch.as_tensor(train_batch[f"state_in_{i}"], dtype=torch.float32, device=device)
            for i in range(len(self.get_initial_state()))
        ]
        seq_lens = torch.as_tensor(train_batch["seq_lens"], device=device) if state else None
        return self(input_dict, state, seq_lens)


class FullyConnectedNetwork(TorchModelV2):
    """Multi-layer perceptron with a policy head and a value head.

    Reads ``fcnet_hiddens``, ``fcnet_activation``, ``vf_share_layers``, ``free_log_std`` and
    ``no_final_linear`` from ``model_config`` (missing keys take :data:`MODEL_DEFAULTS`).
    Observations are flattened. With ``num_outputs`` of ``None`` or 0 the outputs are the last
    hidden layer's. Weight names: see the module docstring.
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
        self.activation = get_activation_fn(layout.activation)()
        self.vf_share_layers = layout.vf_share_layers
        self.free_log_std = layout.free_log_std
        if self.free_log_std:
            self.log_std = nn.Parameter(torch.zeros(layout.num_means))
        self.policy_hidden = hidden_layers(layout.obs_dim, layout.policy_sizes)
        self.policy_out: nn.Linear | None = None
        if layout.final_hidden:
            nn.init.orthogonal_(self.policy_hidden[-1].weight, 0.01)
        elif layout.has_policy_out:
            self.policy_out = linear(layout.trunk_size, layout.num_means, 0.01)
        if not self.vf_share_layers:
            self.value_hidden = hidden_layers(layout.obs_dim, layout.value_sizes)
        self.value_out = linear(layout.value_in, 1, 1.0)
        # the last forward pass: "obs" (encoded), "features" (the policy trunk's output), or
        # "value" when the fused acting pass computed it (a plain dict: cheap to update)
        self._last: dict[str, torch.Tensor] = {}
        self._fused = FusedActing(self)

    def forward(
        self, input_dict: dict[str, Any], state: list[torch.Tensor], seq_lens: torch.Tensor | None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        obs = self._encode(input_dict["obs"])
        last = self._last
        last.clear()
        last["obs"] = obs
        if self._fused.available and torch.is_inference_mode_enabled():
            out, last["value"] = self._fused(obs)
        else:
            features = last["features"] = self._run(self.policy_hidden, obs)
            out = features if self.policy_out is None else self.policy_out.forward(features)
        if self.free_log_std:
            out = torch.cat([out, self.log_std.expand(out.shape[0], -1)], dim=-1)
        return out, state

    def _apply(self, fn: Any, *args: Any, **kwargs: Any) -> FullyConnectedNetwork:
        self._fused.invalidate()  # to(), cuda(), float()... may give the weights new storage
        return super()._apply(fn, *args, **kwargs)

    def value_function(self) -> torch.Tensor:
        last = self._last
        if "value" in last:
            return last["value"]
        if "obs" not in last:
            raise RuntimeError("value_function() needs a forward pass first.")
        if self.vf_share_layers:
            features = last["features"]
        else:
            features = self._run(self.value_hidden, self._value_input())
        return self.value_out.forward(features).squeeze(-1)

    def _encode(self, obs: torch.Tensor) -> torch.Tensor:
        """The input of the policy's hidden layers: the observations, flattened."""
        if obs.dtype is torch.float32 and obs.dim() == 2:
            return obs  # as the policies pass them: two ops fewer per acting call
        obs = obs.float()
        return obs.reshape(obs.shape[0], -1)

    def _value_input(self) -> torch.Tensor:
        """The input of the value branch's hidden layers (without ``vf_share_layers``)."""
        return self._last["obs"]

    def _run(self, layers: nn.ModuleList, x: torch.Tensor) -> torch.Tensor:
        # ``forward`` directly: these internal layers have no hooks, and skipping
        # ``Module.__call__`` halves the cost of acting on the small batches RL uses.
        activation = self.activation.forward
        for layer in layers:
            x = activation(layer.forward(x))
        return x


class FusedActing:
    """A :class:`FullyConnectedNetwork`'s policy and value branches as one network twice as
    wide, for acting (under ``torch.inference_mode``, as policies act): the first layers'
    weights stacked, the others and the two heads block-diagonal, so one pass of as many
    layers as one branch computes both the action inputs and the values (on the small batches
    of acting, the cost is per layer, not per multiply). With ``vf_share_layers`` the two
    heads are stacked on the one trunk.

    The joined weights are rebuilt after any torch optimizer's step, when a weight changes in
    place (``load_state_dict``, ``copy_``) and when the model moves (``to``); writes through
    ``param.data`` and parameters replaced by new ones are not seen. Only the default networks
    themselves join (a subclass may change layers or how they run), and not (they act as they
    learn) when the value branch reads an input of its own (the vision network's own
    convolutions), is not as deep as the policy's, or there is no ``policy_out`` layer.
    """

    def __init__(self, model: FullyConnectedNetwork):
        separate = not model.vf_share_layers
        own_value_input = type(model)._value_input is not FullyConnectedNetwork._value_input
        self.available = (
            type(model) in _JOINABLE
            and model.policy_out is not None
            and not (
                separate
                and (own_value_input or len(model.value_hidden) != len(model.policy_hidden))
            )
        )
        branches = [model.policy_hidden, model.value_hidden] if separate else [model.policy_hidden]
        self.hidden = list(zip(*branches, strict=True)) if self.available else []
        self.heads = (model.policy_out, model.value_out) if self.available else ()
        self.shared_trunk = not separate or not self.hidden
        self.activation = model.activation.forward
        layers = [*itertools.chain.from_iterable(self.hidden), *self.heads]
        self._params = [t for layer in layers for t in (layer.weight, layer.bias)]
        self._key: tuple = ()
        self._weights: list[tuple[torch.Tensor, torch.Tensor]] = []

    def invalidate(self) -> None:
        """Rebuild the joined weights at the next call (the model moved to a device or
        dtype)."""
        self._key = ()

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The policy head's outputs and the values for encoded observations ``x``."""
        weights = self._current()
        for weight, bias in weights[:-1]:
            x = self.activation(F.linear(x, weight, bias))
        out = F.linear(x, *weights[-1])
        return out[:, :-1], out[:, -1]

    def _current(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The joined weights, rebuilt when a weight changed since the last call."""
        key = (_optimizer_steps[0], *[t._version for t in self._params])
        if key != self._key:
            with torch.no_grad():
                layers = [_join(layer, stacked=i == 0) for i, layer in enumerate(self.hidden)]
                layers.append(_join(self.heads, stacked=self.shared_trunk))
            self._weights, self._key = layers, key
        return self._weights


# Optimizer steps taken in this process: fused optimizers update weights without bumping
# their version counters, so FusedActing also rebuilds after any step.
_optimizer_steps = [0]


def _count_step(optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
    _optimizer_steps[0] += 1


register_optimizer_step_post_hook(_count_step)


def _join(layers: Sequence[nn.Linear], stacked: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The weight and bias of side-by-side ``layers`` as one layer: ``stacked`` when they read
    the same input, else block-diagonal (each reads its own part of the input)."""
    weights = [layer.weight for layer in layers]
    weight = torch.cat(weights) if stacked else torch.block_diag(*weights)
    return weight, torch.cat([layer.bias for layer in layers])


def linear(in_size: int, out_size: int, gain: float) -> nn.Linear:
    """A linear layer with orthogonal weights of the given gain and zero biases."""
    layer = nn.Linear(in_size, out_size)
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


def hidden_layers(in_size: int, sizes: Sequence[int]) -> nn.ModuleList:
    """Linear layers of the given sizes (activations are applied in ``forward``)."""
    return nn.ModuleList(
        linear(i, o, HIDDEN_GAIN) for i, o in zip([in_size, *sizes], sizes, strict=False)
    )


class VisionNetwork(FullyConnectedNetwork):
    """Convolutions on ``[B, H, W, C]`` images (integer pixels scaled to [0, 1]), then the
    fully connected network on their flattened output.

    Reads ``conv_filters`` and ``conv_activation`` (see :mod:`plugrl.models.visionnet`) and
    the keys :class:`FullyConnectedNetwork` reads. Without ``vf_share_layers`` the value
    branch has convolutions of its own.
    """

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
        self.conv_activation = get_activation_fn(layout.activation)()
        self.policy_conv = conv_layers(layout)
        if not self.vf_share_layers:
            self.value_conv = conv_layers(layout)
        self._images: torch.Tensor | None = None

    def _encode(self, obs: torch.Tensor) -> torch.Tensor:
        images = obs.float() * self.scale
        if images.dim() == 3:  # [B, H, W]: one channel
            images = images.unsqueeze(-1)
        self._images = images.permute(0, 3, 1, 2)
        return self._convolve(self.policy_conv, self._images)

    def _value_input(self) -> torch.Tensor:
        return self._convolve(self.value_conv, self._images)

    def _convolve(self, layers: nn.ModuleList, x: torch.Tensor) -> torch.Tensor:
        activation = self.conv_activation.forward
        for layer in layers:
            x = activation(layer.forward(x))
        return x.flatten(1)


# the networks FusedActing joins (exactly these types: a subclass may change what runs)
_JOINABLE = (FullyConnectedNetwork, VisionNetwork)


def conv_layers(layout: VisionLayout) -> nn.ModuleList:
    """The convolutions of ``layout``: orthogonal weights, zero biases, no padding."""
    layers = nn.ModuleList()
    for spec in layout.layers:
        conv = nn.Conv2d(spec.in_channels, spec.out_channels, spec.kernel, spec.stride)
        nn.init.orthogonal_(conv.weight, HIDDEN_GAIN)
        nn.init.zeros_(conv.bias)
        layers.append(conv)
    return layers


def get_model(
    obs_space: gym.Space,
    action_space: gym.Space,
    num_outputs: int | None,
    model_config: dict,
    name: str = "model",
) -> nn.Module:
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
        base=nn.Module,
        backend="torch",
        base_hint="plugrl_torch.models.TorchModelV2 (or torch.nn.Module)",
    )
