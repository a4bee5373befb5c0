"""plugrl's TensorFlow 2 backend: TFPolicy, build_tf_policy, models and distributions.

Names load on first use, so ``import plugrl_tf`` (and plugin discovery) does not import
TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TFCategorical": "plugrl_tf.distributions",
    "TFDiagGaussian": "plugrl_tf.distributions",
    "TFDistribution": "plugrl_tf.distributions",
    "TFMultiCategorical": "plugrl_tf.distributions",
    "get_action_dist": "plugrl_tf.distributions",
    "FullyConnectedNetwork": "plugrl_tf.models",
    "TFModelV2": "plugrl_tf.models",
    "get_model": "plugrl_tf.models",
    "TFPolicy": "plugrl_tf.policy",
    "build_tf_policy": "plugrl_tf.template",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'plugrl_tf' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


__all__ = sorted(_EXPORTS)
