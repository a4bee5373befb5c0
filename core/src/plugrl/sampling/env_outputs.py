"""EnvOutputGuard: every reward and observation the envs return is a finite number, or one
clear error naming the env and the step (or, as the config says, replaced and counted)."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl.env.checker import check_observation, env_label
from plugrl.errors import EnvError

MODES = ("error", "clip")
_LARGEST = float(np.finfo(np.float32).max)


class EnvOutputGuard:
    """Checks one worker's env outputs each step (a vectorised test; the slow path only runs
    on a bad value).

    Args:
        mode: ``"error"`` raises an :class:`EnvError`; ``"clip"`` replaces NaN with 0 and
            infinities (and missing rewards) with the largest finite values, counted in
            :attr:`replaced`.
    """

    def __init__(self, mode: str = "error"):
        self.clip = mode == "clip"
        self.replaced = 0

    def rewards(self, values: list[Any], envs: list, steps: list[int]) -> np.ndarray:
        """``values`` (one per env, as ``step`` returned them) as a float32 array."""
        try:
            rewards = np.asarray(values, dtype=np.float32)
        except (TypeError, ValueError):  # None, a string...
            rewards = np.array([_number(v) for v in values], dtype=np.float32)
        if np.isfinite(rewards).all():
            return rewards
        return self._bad(rewards, values, "a reward", envs, steps)

    def observations(
        self, preprocessor: Any, raws: list, envs: list, steps: list[int]
    ) -> np.ndarray:
        """The envs' observations ``raws`` preprocessed into one array ``[num_envs, ...]``;
        an observation that does not fit its space is an error naming the space."""
        try:
            obs = preprocessor.transform_batch(raws)
        except (KeyError, IndexError, TypeError, ValueError):
            obs = None
        if obs is None or obs.shape[1:] != preprocessor.observation_space.shape:
            for env, raw, step in zip(envs, raws, steps, strict=True):
                check_observation(env, raw, "reset" if step == 0 else "step")
            raise EnvError(f"The envs' observations do not fit together: {raws!r:.200}")
        return self.finite(obs, envs, steps)

    def finite(self, obs: np.ndarray, envs: list, steps: list[int]) -> np.ndarray:
        """Preprocessed observations ``obs`` (one row per env) if all finite, else as
        :meth:`rewards` treats a bad value."""
        if obs.dtype.kind != "f" or np.isfinite(obs).all():
            return obs
        return self._bad(obs, list(obs), "an observation containing", envs, steps)

    def _bad(self, array: np.ndarray, raw: list, what: str, envs: list, steps: list) -> Any:
        rows = ~np.isfinite(array.reshape(len(array), -1)).all(axis=1)
        if self.clip:
            self.replaced += int(rows.sum())
            return np.nan_to_num(array, nan=0.0, posinf=_LARGEST, neginf=-_LARGEST)
        i = int(np.flatnonzero(rows)[0])
        value = raw[i] if what == "a reward" else float(array[i][~np.isfinite(array[i])][0])
        raise EnvError(
            f"{env_label(envs[i])} (env {i} of this worker) returned {what} {value!r} at step "
            f"{steps[i]} of its episode (0: reset): rewards and observations must be finite "
            "numbers. Fix the env, or set nonfinite_env_values: 'clip' to replace such values "
            "with finite ones."
        )


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
