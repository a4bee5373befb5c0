"""User-facing errors: each says what was wrong, the value seen, and what to do.

The CLI prints a :class:`PlugrlError` as one line; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class PlugrlError(Exception):
    """Base class of every error caused by user input rather than by a bug."""


class ConfigError(PlugrlError, ValueError):
    """An unknown, mistyped or inconsistent config value."""


class PluginError(PlugrlError):
    """A plugin, algorithm, framework or other registered name that is missing or broken."""


class EnvError(PlugrlError):
    """An environment that cannot be created, or whose spaces are not supported."""


class CheckpointError(PlugrlError):
    """A checkpoint that is missing, corrupt, of an unknown format version, written by another
    algorithm or model, or that could not be written."""


class NonFiniteError(PlugrlError):
    """A loss, gradient, reward or observation that is NaN or infinite."""


class ResultsError(PlugrlError):
    """Results (result.json, progress.csv, TensorBoard events) could not be written or read."""


class TrialError(PlugrlError):
    """Trials of a Ray Tune run failed; the message names them and their error files."""


class WorkerError(PlugrlError):
    """A rollout worker failed; the message names the worker and the original exception."""


def did_you_mean(name: str, choices: Iterable[str], n: int = 3) -> str:
    """Return ' Did you mean: a, b?' for the closest choices, or '' when nothing is close."""
    close = difflib.get_close_matches(name, list(choices), n=n, cutoff=0.6)
    return f" Did you mean: {', '.join(repr(c) for c in close)}?" if close else ""


class OfflineDataError(PlugrlError):
    """Offline input that cannot be read: missing files, lines that are not batches, columns
    an estimator needs."""


class ServingError(PlugrlError):
    """A policy server that cannot start, serve or be reached, or a request it refused: the
    message names the problem as the server said it, ``status`` is the HTTP status and
    ``code`` the server's error code (see docs/serving.md), both None when no answer came."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
