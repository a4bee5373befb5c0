"""Schedules: values that change with the global timestep (learning rates, coefficients)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from plugrl.errors import ConfigError


class PiecewiseSchedule:
    """Linear interpolation between ``[[timestep, value], ...]`` points; constant outside."""

    def __init__(self, endpoints: Sequence[Sequence[float]], name: str = "schedule"):
        points = sorted((float(t), float(v)) for t, v in endpoints)
        if not points:
            raise ConfigError(
                f"{name} needs at least one [timestep, value] pair, got {endpoints!r}."
            )
        self.times = np.array([t for t, _ in points])
        self.values = np.array([v for _, v in points])

    def value(self, timestep: float) -> float:
        return float(np.interp(timestep, self.times, self.values))

    __call__ = value
