"""Property-based: any mutation of a checkpoint's files either restores or is one
CheckpointError, leaves the trainer unchanged when refused, and never changes the files."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugrl import CheckpointError
from plugrl.checkpoint import ARRAYS_FILE, STATE_FILE
from plugrl_ppo import PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    t = PPOTrainer(config=TINY_CONFIG, logdir=str(tmp_path_factory.mktemp("fuzz_run")))
    yield t
    t.stop()


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def _mutate(tree: Any, data: st.DataObject) -> Any:
    """``tree`` with one node somewhere deleted or replaced by an arbitrary JSON value."""
    if not isinstance(tree, (dict, list)) or not tree or data.draw(st.booleans()):
        return data.draw(JSON)
    keys = list(tree) if isinstance(tree, dict) else list(range(len(tree)))
    key = data.draw(st.sampled_from(keys))
    copy = dict(tree) if isinstance(tree, dict) else list(tree)
    if data.draw(st.integers(0, 4)) == 0:
        del copy[key]
    else:
        copy[key] = _mutate(copy[key], data)
    return copy


def _try_restore(trainer, path: Path, original: Path) -> None:
    digest = _digest(path)
    before = trainer.get_weights()["default_policy"]
    try:
        trainer.restore(str(path))
    except CheckpointError as exc:
        assert "\n" not in str(exc)
        after = trainer.get_weights()["default_policy"]
        for name, value in before.items():
            np.testing.assert_array_equal(after[name], value)
    assert _digest(path) == digest  # restoring never writes
    trainer.restore(str(original))  # and the trainer still takes a good checkpoint


@FUZZ
@given(data=st.data())
def test_mutated_state_json(trainer, ppo_checkpoint, data):
    payload = json.loads((ppo_checkpoint / STATE_FILE).read_text())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoint"
        shutil.copytree(ppo_checkpoint, path)
        (path / STATE_FILE).write_text(json.dumps(_mutate(payload, data)))
        _try_restore(trainer, path, ppo_checkpoint)


@FUZZ
@given(data=st.data())
def test_mutated_arrays_file(trainer, ppo_checkpoint, data):
    blob = bytearray((ppo_checkpoint / ARRAYS_FILE).read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(blob) - 1))
        blob[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        blob = blob[: data.draw(st.integers(0, len(blob)))]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoint"
        shutil.copytree(ppo_checkpoint, path)
        (path / ARRAYS_FILE).write_bytes(bytes(blob))
        _try_restore(trainer, path, ppo_checkpoint)
