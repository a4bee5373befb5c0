"""plugrl's TensorFlow 2 backend: TFPolicy, build_tf_policy, models and distributions.

Names load on first use, so ``import plugrl_tf`` (and plugin discovery) does not import
TensorFlow.
"""

from plugrl.lazy import lazy_exports

_EXPORTS = {
    "TFCategorical": "plugrl_tf.distributions",
    "TFDiagGaussian": "plugrl_tf.distributions",
    "TFDistribution": "plugrl_tf.distributions",
    "TFMultiCategorical": "plugrl_tf.distributions",
    "get_action_dist": "plugrl_tf.distributions",
    "FullyConnectedNetwork": "plugrl_tf.models",
    "VisionNetwork": "plugrl_tf.models",
    "ActionMaskModel": "plugrl_tf.action_mask",
    "TFModelV2": "plugrl_tf.models",
    "get_model": "plugrl_tf.models",
    "TFBackend": "plugrl_tf.backend",
    "TFPolicy": "plugrl_tf.policy",
    "build_tf_policy": "plugrl_tf.policy",
}


__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
