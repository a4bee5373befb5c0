"""One seeded learning run: the tuned DQN example reaches 150 on CartPole-v1 within 50k steps."""

from __future__ import annotations

from pathlib import Path

import pytest

import plugrl_dqn
from plugrl.testing import assert_learns

TUNED = Path(plugrl_dqn.__file__).parent / "tuned_examples" / "cartpole-dqn.yaml"


@pytest.mark.learning
def test_dqn_learns_cartpole(tmp_path):
    assert_learns(TUNED, 150, 50_000, tmp_path, seed=0)
