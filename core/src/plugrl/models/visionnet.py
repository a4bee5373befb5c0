"""The layout of the default vision network, shared by every backend so that their networks
have the same convolutions, names and shapes (and weights cross between frameworks).

The network: ``conv_filters`` convolutions without padding on the ``[H, W, C]`` image (scaled
to [0, 1] when its dtype is an integer), flattened in ``[C, H, W]`` order, then the fully
connected network of :mod:`plugrl.models.fcnet` on those features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.config import MODEL_DEFAULTS
from plugrl.errors import ConfigError

# [out_channels, [kernel_h, kernel_w], stride] for each convolution, by image size (H, W).
DEFAULT_CONV_FILTERS: dict[tuple[int, int], list[list[Any]]] = {
    (84, 84): [[32, [8, 8], 4], [64, [4, 4], 2], [64, [3, 3], 1]],
    (64, 64): [[32, [8, 8], 4], [64, [4, 4], 2], [64, [3, 3], 1]],
    (42, 42): [[16, [4, 4], 2], [32, [4, 4], 2], [32, [3, 3], 1]],
    (10, 10): [[16, [3, 3], 1]],
}


@dataclass(frozen=True)
class ConvLayer:
    """One convolution: ``in_channels`` to ``out_channels`` with a ``kernel`` and ``stride``."""

    in_channels: int
    out_channels: int
    kernel: tuple[int, int]
    stride: int


@dataclass(frozen=True)
class VisionLayout:
    """The convolutions for one image space and config, and what they produce.

    ``scale``: what pixels are multiplied by first (``1 / high`` for integer images, else 1);
    ``out_shape``: the last convolution's output ``(C, H, W)``; ``feature_space``: the flat
    Box the fully connected part reads.
    """

    layers: list[ConvLayer]
    activation: str | None
    scale: float
    out_shape: tuple[int, int, int]

    @property
    def feature_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(-np.inf, np.inf, (int(np.prod(self.out_shape)),), np.float32)


def vision_layout(obs_space: gym.spaces.Box, model_config: dict) -> VisionLayout:
    """The layout for an ``[H, W, C]`` (or ``[H, W]``, one channel) ``obs_space``; a
    :class:`ConfigError` naming the image shape when there are no default filters for it or
    the filters do not fit."""
    config = {**MODEL_DEFAULTS, **model_config}
    height, width, channels = (*(int(d) for d in obs_space.shape), 1)[:3]
    filters = config["conv_filters"] or DEFAULT_CONV_FILTERS.get((height, width))
    if filters is None:
        sizes = ", ".join(f"{h}x{w}" for h, w in DEFAULT_CONV_FILTERS)
        raise ConfigError(
            f"No default conv_filters for {height}x{width}x{channels} images (there are for "
            f"{sizes}): set model.conv_filters, e.g. [[16, [3, 3], 1], [32, [3, 3], 2]] "
            "([out_channels, [kernel_h, kernel_w], stride] per layer), or resize the images."
        )
    layers, size = [], (height, width)
    for i, spec in enumerate(filters):
        out_channels, (kh, kw), stride = int(spec[0]), spec[1], int(spec[2])
        size = ((size[0] - int(kh)) // stride + 1, (size[1] - int(kw)) // stride + 1)
        if min(size) < 1:
            raise ConfigError(
                f"conv_filters {filters}: layer {i} ({spec}) leaves nothing of a "
                f"{height}x{width} image; use smaller kernels or strides."
            )
        layers.append(ConvLayer(channels, out_channels, (int(kh), int(kw)), stride))
        channels = out_channels
    # integer pixels (bounded like uint8: at most 255) are scaled to [0, 1]; a larger bound
    # is a dtype's limit (e.g. a custom preprocessor's int32), not the pixels' range
    integer = np.issubdtype(obs_space.dtype, np.integer)
    high = float(np.max(obs_space.high)) if integer else 1.0
    return VisionLayout(
        layers=layers,
        activation=config["conv_activation"],
        scale=1.0 / high if integer and 0 < high <= 255 else 1.0,
        out_shape=(channels, *size),
    )
