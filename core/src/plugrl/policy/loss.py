"""What a loss function returns: its loss (or one per optimizer), its stats and per-row fetches.

A loss function hands everything it computed back to the policy; nothing travels through
attributes it sets on the policy, so replacing the loss cannot break the stats.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from plugrl.errors import PlugrlError


@dataclass
class LossOutput:
    """A loss function's result.

    Args:
        loss: the scalar to minimise, or a list of them, one per optimizer.
        stats: scalars to report among the learner stats (``policy_loss``, ``entropy``...),
            or a function of no arguments that returns them: the policy calls it after the
            backward pass, only for the updates whose stats are reported (of several epochs
            of minibatches, the last epoch's), so the other updates skip their cost.
        fetches: per-row values returned beside the stats by ``learn_on_batch`` (e.g. the
            ``td_error`` that prioritized replay turns into priorities).
    """

    loss: Any
    stats: dict[str, Any] | Callable[[], dict[str, Any]] = field(default_factory=dict)
    fetches: dict[str, Any] = field(default_factory=dict)

    def computed_stats(self) -> dict[str, Any]:
        """The stats as a dict (computed now, when the loss returned a function of them)."""
        return self.stats() if callable(self.stats) else self.stats

    @property
    def losses(self) -> list[Any]:
        """The loss terms as a list, one per optimizer."""
        return list(self.loss) if isinstance(self.loss, (list, tuple)) else [self.loss]

    @classmethod
    def of(cls, value: Any) -> LossOutput:
        """What a loss function returned (a LossOutput, a bare loss or a list of losses) as a
        LossOutput."""
        return value if isinstance(value, LossOutput) else cls(value)


class LossStats(Mapping):
    """The stats a loss returned, as a ``stats_fn`` reads them: asking for one it did not
    return is a one-line error naming the loss and the stat."""

    def __init__(self, stats: dict[str, Any], loss_name: str, reader: str):
        self._stats = stats
        self._loss_name = loss_name
        self._reader = reader

    def __getitem__(self, key: str) -> Any:
        try:
            return self._stats[key]
        except KeyError:
            raise PlugrlError(
                f"{self._reader} needs {key!r} from the loss, but {self._loss_name} returned "
                f"only {sorted(self._stats) or 'a bare loss'}: return it in "
                f"LossOutput(stats={{{key!r}: ...}}) or read it with .get()."
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._stats)

    def __len__(self) -> int:
        return len(self._stats)
