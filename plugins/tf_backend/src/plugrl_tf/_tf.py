"""The one place TensorFlow is imported: quiet C++ logging unless the user asked for it."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
from tensorflow.python import pywrap_tfe  # noqa: E402  (for plugrl_tf.calls)
from tensorflow.python.eager import context, record  # noqa: E402

__all__ = ["context", "pywrap_tfe", "record", "tf"]
