"""Registers the TensorFlow backend with plugrl as ``tf`` and ``tf2`` (the same backend:
``tf`` traces acting and learning, ``tf2`` runs them eagerly).

TensorFlow is imported only when a seed is set or read or a policy is built, so listing
plugins stays fast. The seed and the random state are TF's global ``tf.random.Generator``'s
(and ``tf.random.set_seed``'s, for initialisers); a seeded worker forks a generator of its own
from the global one, which the TF distributions draw from while it samples.
"""

from __future__ import annotations

from typing import Any

from plugrl import hookimpl
from plugrl.framework import Framework


def _seed(seed: int) -> None:
    from plugrl_tf._tf import tf

    tf.random.set_seed(seed)
    # the seed picks the Philox key: a seed in the counter (reset_from_seed) would give
    # seed + 1 the stream of seed, shifted by a few draws
    key, counter = _philox_key(seed), [0, 0]
    try:
        generator = tf.random.get_global_generator()
    except RuntimeError:  # op determinism is on and there is no generator yet: make it
        tf.random.set_global_generator(tf.random.Generator.from_key_counter(key, counter, "philox"))
    else:  # in place: traced functions keep the generator they captured
        generator.reset_from_key_counter(key, counter)


def _philox_key(seed: int) -> int:
    """A Philox key (int64) spread from ``seed``."""
    import numpy as np

    return int(np.random.SeedSequence(seed).generate_state(1, np.uint64)[0].astype(np.int64))


def _get_rng_state(generator: Any = None) -> Any:
    from plugrl_tf._tf import tf

    if generator is None:
        generator = tf.random.get_global_generator()
    return generator.state.numpy()


def _set_rng_state(state: Any, generator: Any = None) -> None:
    import numpy as np

    from plugrl_tf._tf import tf

    if generator is None:
        generator = tf.random.get_global_generator()
    array = np.asarray(state)
    if array.shape != tuple(generator.state.shape) or array.dtype.kind not in "iu":
        raise ValueError(
            f"the TF random state must be {generator.state.shape[0]} integers (a "
            f"tf.random.Generator's), got shape {array.shape} of {array.dtype}"
        )
    generator.reset(array.astype(np.int64))


def _fork_generator() -> Any:
    from plugrl_tf._tf import tf

    source = tf.random.get_global_generator()
    # from its value: given the variable itself, from_state would share it
    return tf.random.Generator.from_state(source.state.numpy(), source.algorithm)


@hookimpl
def register_frameworks(register: Any) -> None:
    tf = Framework(
        "tf",
        _seed,
        get_rng_state=_get_rng_state,
        set_rng_state=_set_rng_state,
        fork_generator=_fork_generator,
    )
    for alias in ("tf", "tf2"):  # one backend under both names
        register(alias, tf)
