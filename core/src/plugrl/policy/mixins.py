"""Framework-free policy mixins: learning-rate and entropy-coefficient schedules.

A mixin's ``__init__`` is called by a template hook (e.g. ``before_loss_init``), not on
construction. Backends subclass :class:`LearningRateSchedule` to set the rate on their
optimizers.
"""

from __future__ import annotations

from typing import Any

from plugrl.schedules import PiecewiseSchedule


class LearningRateSchedule:
    """Keeps ``cur_lr`` on ``lr_schedule`` as the timestep advances and hands it to the
    optimizers through :meth:`_set_optimizer_lr` (which each backend implements)."""

    def __init__(self, lr: float, lr_schedule: list | None):
        self.cur_lr = float(lr)
        self._lr_schedule = PiecewiseSchedule(lr_schedule, "lr_schedule") if lr_schedule else None
        self._apply_lr()

    def on_global_var_update(self, global_vars: dict[str, Any]) -> None:
        super().on_global_var_update(global_vars)  # type: ignore[misc]
        if self._lr_schedule is not None:
            self._apply_lr()

    def _apply_lr(self) -> None:
        """Set ``cur_lr`` (from the schedule at ``global_timestep``) on every optimizer."""
        if self._lr_schedule is not None:
            self.cur_lr = self._lr_schedule.value(self.global_timestep)  # type: ignore[attr-defined]
        self._set_optimizer_lr(float(self.cur_lr))

    def _set_optimizer_lr(self, lr: float) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not set learning rates")


class EntropyCoeffSchedule:
    """Sets ``entropy_coeff`` from ``entropy_coeff_schedule`` as the timestep advances."""

    def __init__(self, entropy_coeff: float, entropy_coeff_schedule: list | None):
        self.entropy_coeff = float(entropy_coeff)
        self._entropy_schedule = (
            PiecewiseSchedule(entropy_coeff_schedule, "entropy_coeff_schedule")
            if entropy_coeff_schedule
            else None
        )

    def on_global_var_update(self, global_vars: dict[str, Any]) -> None:
        super().on_global_var_update(global_vars)  # type: ignore[misc]
        if self._entropy_schedule is not None:
            self.entropy_coeff = self._entropy_schedule.value(global_vars["timestep"])
