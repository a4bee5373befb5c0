"""Environments: resolving an env spec to a creator, preprocessing and observation filters."""

from plugrl.env.creator import EnvContext, make_env_creator
from plugrl.env.filters import MeanStdFilter, NoFilter, make_filter
from plugrl.env.preprocessors import Preprocessor, get_preprocessor

__all__ = [
    "EnvContext",
    "MeanStdFilter",
    "NoFilter",
    "Preprocessor",
    "get_preprocessor",
    "make_env_creator",
    "make_filter",
]
