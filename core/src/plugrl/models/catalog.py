"""Custom model registration, by name, shared by every backend."""

from __future__ import annotations

import inspect
from typing import Any

from plugrl.config import MODEL_DEFAULTS
from plugrl.errors import ConfigError
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


def build_model(
    obs_space: Any,
    action_space: Any,
    num_outputs: int | None,
    model_config: dict,
    name: str,
    *,
    default: type,
    base: type,
    backend: str,
    base_hint: str,
) -> Any:
    """The model ``model_config`` asks for, for one backend: its ``custom_model`` (a registered
    name or a class, which must subclass ``base``; ``base_hint`` names what to subclass), built
    with ``custom_model_config`` as keyword arguments when its ``__init__`` takes them, or else
    ``default`` (the backend's fully connected network)."""
    custom = model_config.get("custom_model")
    if model_config.get("use_lstm"):  # the backends wrap models in an LSTM before this
        raise ConfigError(
            f"model use_lstm=True: this algorithm builds its own {backend} network around the "
            "model and cannot make it recurrent (PPO, PG, A2C and A3C can). Set use_lstm to "
            "false."
        )
    if not custom:
        return default(obs_space, action_space, num_outputs, model_config, name)
    model_class = ModelCatalog.get_custom(custom) if isinstance(custom, str) else custom
    if not (isinstance(model_class, type) and issubclass(model_class, base)):
        raise ConfigError(
            f"custom_model {custom!r} is {model_class!r}, which is not a {backend} model: with "
            f'framework="{backend}" it must subclass {base_hint}.'
        )
    kwargs = _accepted_kwargs(model_class, dict(model_config.get("custom_model_config") or {}))
    return model_class(obs_space, action_space, num_outputs, model_config, name, **kwargs)


def _accepted_kwargs(model_class: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` if ``model_class.__init__`` takes them all, ``{}`` if it takes none of them
    (RLlib style: the model reads ``model_config["custom_model_config"]`` itself)."""
    params = inspect.signature(model_class.__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return kwargs
    unknown = sorted(set(kwargs) - set(params))
    if not unknown:
        return kwargs
    if len(unknown) == len(kwargs):
        return {}
    raise ConfigError(
        f"custom_model_config has keys {unknown} that {model_class.__name__}.__init__ does not "
        f"take; it takes: {', '.join(list(params)[6:]) or 'no extra arguments'}."
    )


__all__ = ["MODEL_DEFAULTS", "ModelCatalog", "build_model"]
