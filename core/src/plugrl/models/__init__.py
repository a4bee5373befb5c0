"""Framework-free model interfaces: action distributions, the custom-model catalog, and the
helpers backends share to pick a distribution and build a model."""

from plugrl.models.action_dist import ActionDistribution, bind_class, select_action_dist
from plugrl.models.catalog import MODEL_DEFAULTS, ModelCatalog, build_model

__all__ = [
    "MODEL_DEFAULTS",
    "ActionDistribution",
    "ModelCatalog",
    "bind_class",
    "build_model",
    "select_action_dist",
]
