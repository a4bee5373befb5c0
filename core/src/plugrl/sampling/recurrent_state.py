"""The recurrent state a rollout worker carries for a recurrent policy: one row per env, fed
to the policy at each step, recorded as ``state_in_*`` / ``state_out_*`` columns, kept across
fragments and set back to the initial state when an env starts an episode."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from plugrl.policy.sequences import state_in_key, state_out_key


class RecurrentStates:
    """The state of ``num_envs`` envs' episodes under ``policy`` (its initial state at first).

    Args:
        policy: a recurrent policy (its ``get_initial_state()`` is not empty), or one whose
            model reads the previous action or reward (then there is no state to carry: the
            worker takes this path to hand the policy those inputs).
        num_envs: how many envs the worker steps.
    """

    def __init__(self, policy: Any, num_envs: int):
        self.initial = [np.asarray(s) for s in policy.get_initial_state()]
        self.states = [np.repeat(s[None], num_envs, axis=0) for s in self.initial]
        """The state each env's episode feeds the policy at its next step."""

    def step(self, columns: dict[str, list], state_out: Sequence[Any], episodes: list) -> None:
        """Record one step's ``state_in_*`` and ``state_out_*`` and move on to the states out."""
        for i, (state_in, out) in enumerate(zip(self.states, state_out, strict=True)):
            columns[state_in_key(i)].append(state_in)
            columns[state_out_key(i)].append(out)
        self.states = [np.array(s, copy=True) for s in state_out]
        for i, episode in enumerate(episodes):
            episode._rnn_state = [s[i] for s in self.states]

    def reset(self, env_index: int, episode: Any) -> None:
        """The env ``env_index`` starts ``episode``: back to the initial state."""
        for state, initial in zip(self.states, self.initial, strict=True):
            state[env_index] = initial
        episode._rnn_state = [s.copy() for s in self.initial]
