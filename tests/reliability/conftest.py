"""Fixtures for the reliability tests: a small trained checkpoint, and copies to tamper with."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from plugrl.checkpoint import STATE_FILE
from plugrl_ppo import PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG


@pytest.fixture(scope="session")
def ppo_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny PPO trainer's checkpoint after one iteration (read-only: copy before editing)."""
    trainer = PPOTrainer(config=TINY_CONFIG, logdir=str(tmp_path_factory.mktemp("ppo_run")))
    try:
        trainer.train()
        return Path(trainer.save())
    finally:
        trainer.stop()


@pytest.fixture
def tampered(tmp_path: Path, ppo_checkpoint: Path) -> Callable[..., Path]:
    """``tampered(edit)``: a copy of ``ppo_checkpoint`` whose state was changed in place by
    ``edit(state)``; ``tampered(state=x)`` writes ``x`` as the state instead."""

    def make(edit: Callable[[dict[str, Any]], Any] | None = None, *, state: Any = None) -> Path:
        path = tmp_path / "checkpoint_000001"
        shutil.copytree(ppo_checkpoint, path)
        payload = json.loads((path / STATE_FILE).read_text())
        if edit is not None:
            edit(payload["state"])
        else:
            payload["state"] = state
        (path / STATE_FILE).write_text(json.dumps(payload))
        return path

    return make
