"""Environments: resolving an env spec to a creator, preprocessing and observation filters."""

from plugrl.env.creator import EnvContext, make_env_creator
from plugrl.env.filters import MeanStdFilter, NoFilter, make_filter
from plugrl.env.preprocessors import (
    FlattenPreprocessor,
    ImagePreprocessor,
    Preprocessor,
    get_preprocessor,
    split_flat,
)
from plugrl.env.task_settable import TaskSettableEnv

__all__ = [
    "EnvContext",
    "FlattenPreprocessor",
    "ImagePreprocessor",
    "MeanStdFilter",
    "NoFilter",
    "Preprocessor",
    "TaskSettableEnv",
    "get_preprocessor",
    "make_env_creator",
    "make_filter",
    "split_flat",
]
