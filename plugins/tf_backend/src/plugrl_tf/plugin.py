"""Registers the TensorFlow backend with plugrl as ``tf`` and ``tf2`` (the same backend:
``tf`` traces acting and learning, ``tf2`` runs them eagerly).

TensorFlow is imported only when a seed is set or read or a policy is built, so listing
plugins stays fast. The seed and the random state are TF's global ``tf.random.Generator``'s,
which the TF distributions draw from (and ``tf.random.set_seed``'s, for initialisers).
"""

from __future__ import annotations

from typing import Any

from plugrl import hookimpl
from plugrl.framework import Framework


def _seed(seed: int) -> None:
    from plugrl_tf._tf import tf

    tf.random.set_seed(seed)
    try:  # in place: traced functions keep the generator they captured
        tf.random.get_global_generator().reset_from_seed(seed)
    except RuntimeError:  # op determinism is on and there is no generator yet
        tf.random.set_global_generator(tf.random.Generator.from_seed(seed))


def _get_rng_state() -> Any:
    from plugrl_tf._tf import tf

    return tf.random.get_global_generator().state.numpy()


def _set_rng_state(state: Any) -> None:
    import numpy as np

    from plugrl_tf._tf import tf

    tf.random.get_global_generator().reset(np.asarray(state, np.int64))


@hookimpl
def register_frameworks(register: Any) -> None:
    tf = Framework("tf", _seed, get_rng_state=_get_rng_state, set_rng_state=_set_rng_state)
    for alias in ("tf", "tf2"):  # one backend under both names
        register(alias, tf)
