"""Checkpoints: folders written atomically and read without trusting them
(:mod:`~plugrl.checkpoint.storage`), the check that one fits a trainer
(:mod:`~plugrl.checkpoint.fit`), and the safe rebuilding of a run's config
(:mod:`~plugrl.checkpoint.config`)."""

from plugrl.checkpoint.storage import (
    ARRAYS_FILE,
    CHECKPOINT_PREFIX,
    FORMAT_VERSION,
    STATE_FILE,
    prune_checkpoints,
    read_state,
    recover,
    write_state,
)

__all__ = [
    "ARRAYS_FILE",
    "CHECKPOINT_PREFIX",
    "FORMAT_VERSION",
    "STATE_FILE",
    "prune_checkpoints",
    "read_state",
    "recover",
    "write_state",
]
