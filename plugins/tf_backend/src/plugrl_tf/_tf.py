"""The one place TensorFlow is imported: quiet C++ logging unless the user asked for it."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

__all__ = ["tf"]
