"""Registers the TensorFlow backend with plugrl as ``tf`` and ``tf2`` (the same backend:
``tf`` traces acting and learning, ``tf2`` runs them eagerly).

TensorFlow is imported only when a seed is set or a policy is built, so listing plugins stays
fast.
"""

from __future__ import annotations

from typing import Any

from plugrl import hookimpl
from plugrl.framework import Framework


def _seed(seed: int) -> None:
    from plugrl_tf._tf import tf

    tf.random.set_seed(seed)


@hookimpl
def register_frameworks(register: Any) -> None:
    for alias in ("tf", "tf2"):  # one backend under both names
        register(alias, Framework(name="tf", seed=_seed))
