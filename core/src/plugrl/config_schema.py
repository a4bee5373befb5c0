"""Config schemas: the type and range of every config key, checked once with one-line errors.

A schema is a pydantic model of the keys of a ``DEFAULT_CONFIG`` (documented there):
:class:`CommonConfig` (with :class:`ModelConfig`) for the common keys, subclassed by each
algorithm for its own keys and passed to ``build_trainer(..., config_schema=...)``. Validation
is strict: a string is not a number and a bool is not an integer, but an integer is a number
(and numpy scalars count as the numbers they hold). Schemas check values only: which keys
exist is :func:`plugrl.config.merge_dicts`' business, so keys they do not name are allowed.
"""

import math
import numbers
import reprlib
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import gymnasium as gym
import numpy as np
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo

from plugrl.errors import ConfigError

LOG_LEVELS = ("DEBUG", "INFO", "WARN", "WARNING", "ERROR")


def _python_scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _log_level(name: str) -> str:
    if name.upper() not in LOG_LEVELS:
        raise ValueError(name)
    return name


def _not_a_number(value: Any) -> Any:
    if isinstance(value, bool | numbers.Number):
        raise ValueError(value)
    return value


def _input_source(value: Any) -> Any:
    if callable(value) or isinstance(value, str | Mapping):
        return value
    if isinstance(value, Sequence) and value and all(isinstance(v, str) for v in value):
        return value
    raise ValueError(value)


def _space(value: Any) -> Any:
    # the JSON form is read (with its own errors) when the trainer is built
    if value is None or isinstance(value, gym.Space | Mapping):
        return value
    raise ValueError(value)


def _output_target(value: Any) -> Any:
    if value is None or callable(value) or isinstance(value, str):
        return value
    raise ValueError(value)


# The rules keys share; error messages say them in words (see _alternatives).
_SCALAR = BeforeValidator(_python_scalar)
FiniteFloat = Annotated[float, _SCALAR, Field(allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, _SCALAR, Field(ge=0, allow_inf_nan=False)]
PositiveFloat = Annotated[float, _SCALAR, Field(gt=0, allow_inf_nan=False)]
UnitFloat = Annotated[float, _SCALAR, Field(ge=0, le=1, allow_inf_nan=False)]
NonNegativeInt = Annotated[int, _SCALAR, Field(ge=0)]
PositiveInt = Annotated[int, _SCALAR, Field(ge=1)]
# Lists may be given as tuples in Python; their items stay strict.
LayerSizes = Annotated[
    list[PositiveInt], Field(strict=False, description="a list of integers >= 1")
]
Schedule = Annotated[
    list[Annotated[list[NonNegativeFloat], Field(strict=False, min_length=2, max_length=2)]],
    Field(strict=False, description="a list of [timestep, value] pairs of numbers >= 0"),
]
ConvFilter = Annotated[
    tuple[
        PositiveInt,
        Annotated[list[PositiveInt], Field(strict=False, min_length=2, max_length=2)],
        PositiveInt,
    ],
    Field(strict=False),
]
ConvFilters = Annotated[
    list[ConvFilter],
    Field(
        strict=False,
        min_length=1,
        description="a list of [out_channels, [kernel_h, kernel_w], stride] (integers >= 1)",
    ),
]
Function = Callable[..., Any]
_SPACE = "None, a gymnasium space or its JSON form (a mapping with a 'type')"
Options = dict[str, Any]  # keyword arguments for something: free-form, but keyed by names


class _Schema(BaseModel):
    # A key that is a Python keyword is declared with a trailing underscore: lambda_.
    model_config = ConfigDict(
        strict=True, extra="allow", alias_generator=lambda name: name.removesuffix("_")
    )


class ModelConfig(_Schema):
    """The rules for the keys of ``MODEL_DEFAULTS``."""

    fcnet_hiddens: LayerSizes
    fcnet_activation: Literal["tanh", "relu", "elu", "swish", "linear"] | None
    vf_share_layers: bool
    free_log_std: bool
    no_final_linear: bool
    conv_filters: ConvFilters | None
    conv_activation: Literal["tanh", "relu", "elu", "swish", "linear"] | None
    custom_model: Annotated[
        str | type | None, Field(description="None, a registered model name or a model class")
    ]
    custom_model_config: Options
    custom_action_dist: Annotated[
        str | type | None,
        Field(description="None, a registered action distribution name or a class"),
    ]
    custom_preprocessor: Annotated[
        str | type | None,
        Field(description="None, a registered preprocessor name or a Preprocessor subclass"),
    ]
    use_lstm: bool
    max_seq_len: PositiveInt
    lstm_cell_size: PositiveInt
    lstm_use_prev_action: bool
    lstm_use_prev_reward: bool


def _policies(value: Any) -> Any:
    # the items (classes, spaces, overrides) are checked when the policies are built
    if isinstance(value, Mapping):
        return value
    listed = isinstance(value, Sequence | set | frozenset) and not isinstance(value, str)
    if listed and all(isinstance(v, str) for v in value):
        return value
    raise ValueError(value)


def _function_or_path(value: Any) -> Any:
    if value is None or callable(value) or (isinstance(value, str) and ":" in value):
        return value
    raise ValueError(value)


class MultiAgentConfig(_Schema):
    """The rules for the keys of ``COMMON_CONFIG["multiagent"]``."""

    policies: Annotated[
        Any,
        AfterValidator(_policies),
        Field(
            description="a mapping of policy ids to (class, observation space, action space, "
            "config) tuples or PolicySpecs, or a list of policy ids"
        ),
    ]
    policy_mapping_fn: Annotated[
        Any,
        AfterValidator(_function_or_path),
        Field(description="None, a function or a 'module:function' path"),
    ]
    policies_to_train: Annotated[
        list[str] | None, Field(strict=False, description="None or a list of policy ids")
    ]
    count_steps_by: Literal["env_steps", "agent_steps"]


class CommonConfig(_Schema):
    """The rules for the keys of ``COMMON_CONFIG``; an algorithm's schema subclasses it."""

    num_workers: NonNegativeInt
    num_envs_per_worker: PositiveInt
    rollout_fragment_length: PositiveInt
    batch_mode: Literal["truncate_episodes", "complete_episodes"]
    num_gpus: NonNegativeFloat
    train_batch_size: PositiveInt
    model: ModelConfig
    optimizer: Options
    gamma: UnitFloat
    lr: NonNegativeFloat
    env: Any  # a name, class or callable: checked when the env creator is made
    env_config: dict  # handed to the env creator as it is
    observation_space: Annotated[Any, AfterValidator(_space), Field(description=_SPACE)]
    action_space: Annotated[Any, AfterValidator(_space), Field(description=_SPACE)]
    horizon: PositiveInt | None
    preprocessor_pref: Literal["deepmind"] | None
    normalize_actions: bool
    clip_rewards: None | bool | NonNegativeFloat
    clip_actions: bool
    log_level: Annotated[
        str,
        AfterValidator(_log_level),
        Field(description="'DEBUG', 'INFO', 'WARN', 'WARNING' or 'ERROR' (in any case)"),
    ]
    monitor: bool
    callbacks: Annotated[
        Any,
        AfterValidator(_not_a_number),
        Field(
            description="None, a callbacks class or instance, a 'module:Class' path, a list of "
            "these or a dict of legacy callback functions"
        ),
    ]
    ignore_worker_failures: bool
    recreate_failed_workers: bool
    max_num_worker_restarts: NonNegativeInt
    nonfinite_env_values: Literal["error", "clip"]
    skip_nonfinite_updates: bool
    framework: str  # the installed backends are checked when the policy class is looked up
    eager_tracing: bool | None
    explore: bool
    exploration_config: Options  # "type" and its arguments: checked by the exploration
    evaluation_interval: PositiveInt | None
    evaluation_duration: PositiveInt | Literal["auto"]
    evaluation_duration_unit: Literal["episodes", "timesteps"]
    evaluation_num_episodes: PositiveInt | None
    evaluation_parallel_to_training: bool
    enable_async_evaluation: bool
    evaluation_sample_timeout_s: PositiveFloat
    in_evaluation: bool
    evaluation_config: Options  # checked with this schema after merging (check_config)
    evaluation_num_workers: NonNegativeInt
    custom_eval_function: Function | None
    input: Annotated[
        Any,
        AfterValidator(_input_source),
        Field(
            description="'sampler', a path or URL, a list of them, a dict of sources and "
            "probabilities, or fn(ioctx) -> reader"
        ),
    ]
    input_config: Options
    postprocess_inputs: bool
    shuffle_buffer_size: NonNegativeInt
    input_evaluation: Annotated[
        list[Literal["is", "wis", "simulation"]] | None,
        Field(description="None or a list of 'is', 'wis' and 'simulation'"),
    ]
    output: Annotated[
        Any,
        AfterValidator(_output_target),
        Field(description="None, 'logdir', a folder or URL, or fn(ioctx) -> writer"),
    ]
    output_compress_columns: list[str]
    output_max_file_size: PositiveInt
    sample_async: bool
    observation_filter: Literal["NoFilter", "MeanStdFilter"]
    synchronize_filters: bool
    collect_metrics_timeout: PositiveFloat
    metrics_smoothing_episodes: PositiveInt
    min_iter_time_s: NonNegativeFloat
    timesteps_per_iteration: NonNegativeInt
    env_task_fn: Function | None
    seed: NonNegativeInt | None
    num_cpus_per_worker: NonNegativeFloat
    num_gpus_per_worker: NonNegativeFloat
    num_cpus_for_driver: NonNegativeFloat
    ray_address: str | None
    multiagent: MultiAgentConfig
    keep_checkpoints_num: PositiveInt | None


# How error messages show a value seen, and name a type.
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_NOUNS = {
    bool: "a boolean",
    str: "a string",
    dict: "a mapping",
    list: "a list",
    type: "a class",
    Callable: "a function",
}


def check_config(
    config: Mapping[str, Any], schema: type[CommonConfig] = CommonConfig, prefix: str = ""
) -> None:
    """Raise a one-line :class:`ConfigError` naming the first key of ``config`` (written
    ``prefix + key``) whose value ``schema`` refuses, what it allows and the value seen, and
    listing the other refused keys; keys ``config`` lacks are not checked."""
    try:
        schema.model_validate(config)
    except ValidationError as exc:
        problems: dict[tuple[str, ...], tuple[FieldInfo, bool]] = {}
        for error in exc.errors():
            if error["type"] == "missing":
                continue
            path, field = _field_at(schema, error["loc"])
            wrong_type = problems.get(path, (field, False))[1] or error["type"].endswith("_type")
            problems[path] = (field, wrong_type)
        if problems:
            raise ConfigError(_message(config, problems, prefix)) from None


def _field_at(schema: type[BaseModel], loc: tuple[Any, ...]) -> tuple[tuple[str, ...], FieldInfo]:
    """The key path and field of a pydantic error location (which may go on into a list item
    or a union member)."""
    fields = {field.alias or name: field for name, field in schema.model_fields.items()}
    key, field = str(loc[0]), fields[loc[0]]
    inner = field.annotation
    if len(loc) > 1 and isinstance(inner, type) and issubclass(inner, BaseModel):
        path, field = _field_at(inner, loc[1:])
        return (key, *path), field
    return (key,), field


def _message(
    config: Mapping[str, Any],
    problems: dict[tuple[str, ...], tuple[FieldInfo, bool]],
    prefix: str,
) -> str:
    (path, (field, wrong_type)), *others = problems.items()
    value: Any = config
    for key in path:
        value = value[key]
    allowed = _or(_alternatives(field.annotation, field.metadata, field.description))
    message = f"Config key {prefix + '.'.join(path)!r} must be {allowed}, got {_REPR.repr(value)}"
    if wrong_type and isinstance(value, str | bool):
        message += f" (a {'string' if isinstance(value, str) else 'boolean'})"
    elif isinstance(value, float) and not math.isfinite(value):
        message += " (not a finite number)"
    if others:
        message += f". Also invalid: {', '.join(repr(prefix + '.'.join(p)) for p, _ in others)}"
    return message + "."


def _or(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _alternatives(
    annotation: Any, metadata: Sequence[Any] = (), description: str | None = None
) -> list[str]:
    """What a type annotation allows, in words, one alternative per item ("None" first)."""
    if get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        metadata = [*extra, *metadata]
    constraints: list[Any] = []
    for item in metadata:
        if isinstance(item, FieldInfo):
            description = description or item.description
            constraints += item.metadata
        else:
            constraints.append(item)
    if description:
        return [description]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        words = [word for arg in args for word in _alternatives(arg)]
        return sorted(words, key=lambda word: word != "None")
    if origin is Literal:
        return [repr(arg) for arg in args]
    if annotation is type(None):
        return ["None"]
    if annotation in (int, float):
        noun = "an integer" if annotation is int else "a number"
        return [noun + _bounds(constraints)]
    if origin is dict and args[0] is str:
        return ["a mapping with string keys"]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return ["a mapping"]
    return [_NOUNS.get(origin or annotation, str(annotation))]


def _bounds(constraints: list[Any]) -> str:
    found = {
        op: getattr(c, op) for c in constraints for op in ("ge", "gt", "le", "lt") if hasattr(c, op)
    }
    if "ge" in found and "le" in found:
        return f" between {found['ge']} and {found['le']}"
    symbols = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
    return "".join(f" {symbols[op]} {bound}" for op, bound in found.items())
