"""Random: uniformly random actions from the action space, ignoring the policy."""

from __future__ import annotations

from typing import Any

from plugrl import Exploration
from plugrl.exploration import batch_size, random_actions, zero_logp


class Random(Exploration):
    """Acts uniformly at random when exploring; the distribution's mode otherwise."""

    def get_exploration_action(
        self, *, action_distribution: Any, timestep: int | None, explore: bool = True
    ) -> tuple[Any, Any]:
        if not explore:
            return action_distribution.deterministic_sample(), zero_logp(
                batch_size(action_distribution)
            )
        action = random_actions(self.action_space, batch_size(action_distribution))
        return action, action_distribution.logp(action)
