"""Checkpoint writes are atomic and durable: SIGKILL at any moment, a kill between the two
renames, a full disk, stale temporary folders, and keeping only the newest N."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from plugrl import CheckpointError, ResultsError
from plugrl.checkpoint import STATE_FILE, read_state, recover, storage, write_state
from plugrl.testing import run_cli
from plugrl_ppo import PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG

# Saves a checkpoint whose every value is the save's number, over and over, under one name
# (so each save replaces the last) and under a new name each time, counting up from a start;
# prints each number done.
SAVER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from plugrl.checkpoint import write_state

    folder, start = sys.argv[1], int(sys.argv[2])
    print("ready", flush=True)
    for i in range(start, 10**6):
        arrays = {f"w{j}": np.full(200_000, i, np.float32) for j in range(4)}
        state = {"i": i, "arrays": arrays, "tail": i}
        write_state(f"{folder}/checkpoint_same", state)
        write_state(f"{folder}/checkpoint_{i:06d}", state)
        print(i, flush=True)
    """
)


def _consistent(state: dict) -> int:
    """The save number of a checkpoint whose parts all agree (an AssertionError otherwise)."""
    i = state["i"]
    assert state["tail"] == i
    for array in state["arrays"].values():
        assert array.shape == (200_000,) and (array == i).all()
    return i


def test_sigkill_during_saves_never_half_writes_or_loses_a_checkpoint(tmp_path):
    rng = random.Random(0)
    last_done, cut_mid_save = 0, 0
    for _ in range(20):
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(tmp_path), str(last_done + 1)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        done = [int(line) for line in proc.stdout.read().split()]
        proc.wait()
        last_done = max([last_done, *done])
        cut_mid_save += any(p.name.startswith(".") for p in tmp_path.iterdir())
        if last_done:  # the checkpoint replaced on every save is never lost nor torn
            assert _consistent(read_state(tmp_path / "checkpoint_same")) >= last_done
        for folder in tmp_path.glob("checkpoint_*"):  # whatever restore accepts is whole
            _consistent(read_state(folder))
    assert last_done > 0, "no save finished in any run: the kills came too early"
    assert cut_mid_save > 0, "no kill landed in the middle of a save"
    write_state(tmp_path / "checkpoint_same", {"i": 0, "arrays": {}, "tail": 0})
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_a_kill_between_the_two_renames_hides_nothing(tmp_path):
    target = tmp_path / "checkpoint_000003"
    write_state(target, {"v": np.arange(3)})
    os.rename(target, tmp_path / ".checkpoint_000003.old")  # where the kill left it
    np.testing.assert_array_equal(read_state(target)["v"], np.arange(3))
    write_state(target, {"v": np.arange(4)})  # no "Directory not empty"
    np.testing.assert_array_equal(read_state(target)["v"], np.arange(4))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint_000003"]


def test_stale_temporary_folders_of_dead_writers_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = tmp_path / f".checkpoint_000001.tmp-{dead.stdout.strip()}-abc"
    live = tmp_path / f".checkpoint_000002.tmp-{os.getppid()}-abc"  # a writer still running
    for folder in (stale, live):
        folder.mkdir()
        (folder / STATE_FILE).write_text("{}")
    write_state(tmp_path / "checkpoint_000003", {"v": 1})
    assert not stale.exists() and live.exists()


def test_a_full_disk_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    target = tmp_path / "checkpoint_000001"
    write_state(target, {"v": np.arange(3)})

    def disk_full(path, write):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(storage, "_write_file", disk_full)
    with pytest.raises(CheckpointError, match="No space left on device.*previous checkpoint"):
        write_state(target, {"v": np.arange(5)})
    monkeypatch.undo()
    np.testing.assert_array_equal(read_state(target)["v"], np.arange(3))
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint_000001"]


def test_keep_checkpoints_num_keeps_the_newest(tmp_path):
    trainer = PPOTrainer(config={**TINY_CONFIG, "keep_checkpoints_num": 2},
                         logdir=str(tmp_path / "run"))  # fmt: skip
    try:
        for _ in range(4):
            trainer.train()
            trainer.save()
    finally:
        trainer.stop()
    kept = sorted(p.name for p in (tmp_path / "run").glob("checkpoint_*"))
    assert kept == ["checkpoint_000003", "checkpoint_000004"]
    recover(tmp_path / "run")
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.startswith(".")]


def test_a_results_file_that_cannot_be_written_is_one_clear_error(tmp_path, monkeypatch):
    trainer = PPOTrainer(config=TINY_CONFIG, logdir=str(tmp_path / "run"))
    try:
        trainer.train()
        saved = trainer.save()
        sink = trainer._sinks[0]

        def disk_full(result):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(sink, "on_result", disk_full)
        with pytest.raises(ResultsError, match="iteration 2 .*No space left on device"):
            trainer.train()
    finally:
        trainer.stop()
    assert read_state(saved)["iteration"] == 1


def test_keep_checkpoints_num_from_the_cli(capsys, tmp_path):
    config = json.dumps({k: v for k, v in TINY_CONFIG.items() if k != "env"})
    code, out, err = run_cli(
        capsys, "train", "--run", "PPO", "--env", "CartPole-v1", "--config", config,
        "--stop", '{"training_iteration": 3}', "--checkpoint-freq", "1",
        "--keep-checkpoints-num", "1", "--local-dir", str(tmp_path),
    )  # fmt: skip
    assert code == 0, err
    assert [p.name for p in tmp_path.rglob("checkpoint_*")] == ["checkpoint_000003"]


def test_a_half_deleted_aside_folder_does_not_block_the_next_save(tmp_path):
    """A kill while the replaced checkpoint was being deleted leaves its aside folder partly
    removed (state.json gone first); the next save of that name still succeeds."""
    target = tmp_path / "checkpoint_000007"
    write_state(target, {"v": np.arange(2)})
    aside = tmp_path / ".checkpoint_000007.old"
    aside.mkdir()
    (aside / "arrays.npz").write_bytes(b"leftover")
    write_state(target, {"v": np.arange(3)})
    np.testing.assert_array_equal(read_state(target)["v"], np.arange(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint_000007"]
