"""Custom model registration, by name, shared by every backend."""

from __future__ import annotations

from typing import Any

from plugrl.config import MODEL_DEFAULTS
from plugrl.registry import registry


class ModelCatalog:
    """Registers custom models and action distributions under names used in ``config["model"]``."""

    @staticmethod
    def register_custom_model(name: str, model_class: type) -> None:
        """Make ``model_class`` available as ``config["model"]["custom_model"] = name``."""
        registry("models").add(name, model_class)

    @staticmethod
    def register_custom_action_dist(name: str, dist_class: type) -> None:
        """Make ``dist_class`` available as ``config["model"]["custom_action_dist"] = name``."""
        registry("models").add(name, dist_class)

    @staticmethod
    def get_custom(name: str) -> Any:
        """The class registered as ``name`` (a :class:`~plugrl.errors.PluginError` if none)."""
        return registry("models").get(name)


__all__ = ["MODEL_DEFAULTS", "ModelCatalog"]
