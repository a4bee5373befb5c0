"""Framework-free model interfaces: action distributions and the custom-model catalog."""

from plugrl.models.action_dist import ActionDistribution
from plugrl.models.catalog import MODEL_DEFAULTS, ModelCatalog

__all__ = ["MODEL_DEFAULTS", "ActionDistribution", "ModelCatalog"]
