"""The layout of the default fully connected network, shared by every backend so that their
networks have the same layers, names and shapes (and weights cross between frameworks)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from plugrl.config import MODEL_DEFAULTS
from plugrl.errors import ConfigError

HIDDEN_GAIN = math.sqrt(2)
"""Orthogonal-init gain of hidden layers (the value head uses 1.0, the policy head 0.01)."""


@dataclass(frozen=True)
class FCNetLayout:
    """Sizes of the default network for one observation space, ``num_outputs`` and config.

    ``policy_sizes``: widths of the ``policy_hidden.i`` layers (with ``final_hidden`` the last
    one is the output layer); ``num_means``: width of ``policy_out`` (0: no such layer);
    ``value_sizes``: widths of the ``value_hidden.i`` layers (empty with ``vf_share_layers``);
    ``num_outputs``: the model's output width.
    """

    obs_dim: int
    activation: str | None
    vf_share_layers: bool
    free_log_std: bool
    final_hidden: bool
    policy_sizes: list[int]
    num_means: int
    value_sizes: list[int]
    num_outputs: int

    @property
    def trunk_size(self) -> int:
        """Width of the last policy-trunk layer (the observation's with no hidden layers)."""
        return self.policy_sizes[-1] if self.policy_sizes else self.obs_dim

    @property
    def value_in(self) -> int:
        """Width of the input to ``value_out``."""
        if self.vf_share_layers:
            return self.trunk_size
        return self.value_sizes[-1] if self.value_sizes else self.obs_dim

    @property
    def has_policy_out(self) -> bool:
        return bool(self.num_means) and not self.final_hidden


def fcnet_layout(obs_space: Any, num_outputs: int | None, model_config: dict) -> FCNetLayout:
    """The layout for ``model_config`` (missing keys take :data:`MODEL_DEFAULTS`)."""
    config = {**MODEL_DEFAULTS, **model_config}
    hiddens = [int(h) for h in config["fcnet_hiddens"]]
    free_log_std = bool(config["free_log_std"]) and bool(num_outputs)
    num_means = int(num_outputs or 0)
    if free_log_std:
        if num_means % 2:
            raise ConfigError(
                f"free_log_std needs an even num_outputs (means and log stds), got "
                f"{num_outputs}: use it with Box action spaces only."
            )
        num_means //= 2
    final_hidden = bool(num_means) and bool(config["no_final_linear"])
    policy_sizes = [*hiddens[:-1], num_means] if final_hidden else hiddens
    vf_share = bool(config["vf_share_layers"])
    obs_dim = int(np.prod(obs_space.shape))
    trunk = policy_sizes[-1] if policy_sizes else obs_dim
    return FCNetLayout(
        obs_dim=obs_dim,
        activation=config["fcnet_activation"],
        vf_share_layers=vf_share,
        free_log_std=free_log_std,
        final_hidden=final_hidden,
        policy_sizes=policy_sizes,
        num_means=num_means,
        value_sizes=[] if vf_share else hiddens,
        num_outputs=int(num_outputs) if num_outputs else trunk,
    )
