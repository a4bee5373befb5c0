"""Custom model and preprocessor registration, by name, shared by every backend."""

from __future__ import annotations

import inspect
from typing import Any

from plugrl.config import MODEL_DEFAULTS
from plugrl.env.preprocessors import Preprocessor, get_preprocessor
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
    def register_custom_preprocessor(name: str, preprocessor_class: type) -> None:
        """Make ``preprocessor_class`` (a :class:`~plugrl.env.preprocessors.Preprocessor`
        subclass) available as ``config["model"]["custom_preprocessor"] = name``."""
        if not (
            isinstance(preprocessor_class, type) and issubclass(preprocessor_class, Preprocessor)
        ):
            raise ConfigError(
                f"register_custom_preprocessor({name!r}, {preprocessor_class!r}): a custom "
                "preprocessor must subclass plugrl.env.preprocessors.Preprocessor and define "
                "_init_shape(obs_space, options) and transform(observation)."
            )
        registry("models").add(name, preprocessor_class)

    @staticmethod
    def get_custom(name: str) -> Any:
        """The class registered as ``name`` (a :class:`~plugrl.errors.PluginError` if none)."""
        return registry("models").get(name)

    @staticmethod
    def get_preprocessor(env_or_space: Any, options: dict | None = None) -> Preprocessor:
        """The preprocessor for an env (its ``observation_space``) or a space, as ``options``
        (the model config) asks: its ``custom_preprocessor``, else the default for the space."""
        space = getattr(env_or_space, "observation_space", env_or_space)
        return ModelCatalog.get_preprocessor_for_space(space, options)

    @staticmethod
    def get_preprocessor_for_space(space: Any, options: dict | None = None) -> Preprocessor:
        """The preprocessor for observations of ``space``; see :meth:`get_preprocessor`."""
        options = {**MODEL_DEFAULTS, **(options or {})}
        custom = options.get("custom_preprocessor")
        if not custom:
            return get_preprocessor(space)(space, options)
        cls = ModelCatalog.get_custom(custom) if isinstance(custom, str) else custom
        if not (isinstance(cls, type) and issubclass(cls, Preprocessor)):
            raise ConfigError(
                f"custom_preprocessor {custom!r} is {cls!r}, which is not a preprocessor: "
                "subclass plugrl.env.preprocessors.Preprocessor and register it with "
                "ModelCatalog.register_custom_preprocessor(name, cls)."
            )
        return cls(space, options)


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
