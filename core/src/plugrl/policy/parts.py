"""State a policy owns besides its model and optimizers: plain objects it builds, updates as the
timestep advances, saves and restores.

An algorithm names its parts in ``make_parts(policy, config) -> {name: part}``; the policy
binds each to its backend, keeps it as an attribute of that name, passes it every timestep
update and saves it in checkpoints under that name. A part is anything with
``bind(backend, policy)``, ``on_timestep(timestep)``, ``get_state()`` and ``set_state(state)``.
"""

from __future__ import annotations

from typing import Any

from plugrl.schedules import PiecewiseSchedule


class Coefficient:
    """A float the loss reads (a learning rate, an entropy or KL coefficient), held in the
    backend's mutable scalar so traced code sees every change.

    A loss computes with ``value`` (the backend scalar) or reads ``float(coefficient)``: the
    value last set, kept on the host, so reading it never waits for a device. It changes only
    through :meth:`set` (schedules, adaptation, restore); a value the loss itself updates in
    place is a :class:`RunningScalar`.

    Args:
        initial: the starting value.
        schedule: optional ``[[timestep, value], ...]``, interpolated linearly as the timestep
            advances (``name`` says which config key it came from, for errors).
    """

    def __init__(self, initial: float, schedule: list | None = None, name: str = "schedule"):
        self._last_set = float(initial)
        self._schedule = PiecewiseSchedule(schedule, name) if schedule else None
        self._backend: Any = None
        self.value: Any = self._last_set
        """The backend scalar a loss computes with (a float before binding)."""

    def bind(self, backend: Any, policy: Any) -> None:
        self._backend = backend
        self.value = backend.scalar(self._last_set)

    def __float__(self) -> float:
        return self._last_set

    def set(self, value: float) -> None:
        """Change the value (in place, so compiled code reads the new one)."""
        self._last_set = float(value)
        if self._backend is None:
            self.value = self._last_set
        else:
            self._backend.assign(self.value, self._last_set)

    def on_timestep(self, timestep: int) -> None:
        if self._schedule is not None:
            self.set(self._schedule.value(timestep))

    def get_state(self) -> float:
        return float(self)

    def set_state(self, state: float) -> None:
        self.set(state)


class RunningScalar(Coefficient):
    """A backend scalar that the loss itself updates in place (a running statistic, such as
    MARWIL's moving average of the squared advantage): ``float()`` and checkpoints read the
    backend scalar."""

    def __float__(self) -> float:
        if self._backend is None:
            return self._last_set
        return float(self._backend.numpy(self.value))


class AdaptiveCoefficient(Coefficient):
    """A coefficient adapted towards a target: x1.5 when the measured value is over twice the
    target, x0.5 when under half of it (PPO's KL penalty)."""

    def __init__(self, initial: float, target: float):
        super().__init__(initial)
        self.target = float(target)

    def update(self, measured: float) -> float:
        """Adapt to one measurement; returns the new value."""
        if measured > 2.0 * self.target:
            self.set(float(self) * 1.5)
        elif measured < 0.5 * self.target:
            self.set(float(self) * 0.5)
        return float(self)


class TargetNetwork:
    """A second model built like the policy's and refreshed with its weights on
    :meth:`update` (DQN's target network). Calling it calls that model."""

    def __init__(self) -> None:
        self.model: Any = None
        self._backend: Any = None
        self._source: Any = None

    def bind(self, backend: Any, policy: Any) -> None:
        self._backend, self._source = backend, policy.model
        self.model = backend.copy_model(policy)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.model(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # the model's own attributes (e.g. ``support``)
        if name.startswith("_") or self.__dict__.get("model") is None:
            raise AttributeError(name)
        return getattr(self.model, name)

    def update(self) -> None:
        """Copy the model's current weights into the target."""
        self._backend.copy_weights(self._source, self.model)

    def on_timestep(self, timestep: int) -> None:
        pass

    def get_state(self) -> dict[str, Any]:
        return self._backend.get_weights(self.model)

    def set_state(self, state: dict[str, Any]) -> None:
        self._backend.set_weights(self.model, state)
