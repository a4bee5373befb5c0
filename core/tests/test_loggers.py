"""Result sinks: progress.csv keeps every column, even ones that appear late; TensorBoard
gets curves, not wall-clock times, and its writer imports no torch."""

from __future__ import annotations

import csv
import json
import struct
import subprocess
import sys
from pathlib import Path

from plugrl.builtins.loggers import CSVSink, JsonSink, TensorBoardSink


def test_csv_adds_columns_that_appear_in_later_results(tmp_path):
    sink = CSVSink(str(tmp_path), {})
    sink.on_result({"training_iteration": 1, "episode_reward_mean": 10.0})
    sink.on_result(
        {"training_iteration": 2, "episode_reward_mean": 12.0, "evaluation": {"reward": 9.0}}
    )
    sink.close()
    again = CSVSink(str(tmp_path), {})  # a restored run appends with the same header
    again.on_result({"training_iteration": 3, "episode_reward_mean": 13.0, "hist": [1, 2]})
    with open(tmp_path / "progress.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [r["training_iteration"] for r in rows] == ["1", "2", "3"]
    assert [r["evaluation/reward"] for r in rows] == ["", "9.0", ""]
    assert "hist" not in rows[0]


def _scalars(logdir: Path) -> dict[str, list[tuple[int, float]]]:
    """The scalars of the TensorBoard event files in ``logdir``, as (step, value) (TFRecord
    framing: length, its CRC, an Event proto, its CRC)."""
    from tensorboardX.proto.event_pb2 import Event

    found: dict[str, list[tuple[int, float]]] = {}
    for path in logdir.glob("events.out.tfevents*"):
        data = path.read_bytes()
        while data:
            (length,) = struct.unpack("<Q", data[:8])
            event = Event.FromString(data[12 : 12 + length])
            data = data[16 + length :]
            for value in event.summary.value:
                found.setdefault(value.tag, []).append((event.step, value.simple_value))
    return found


def test_tensorboard_leaves_wall_clock_keys_to_the_exact_files(tmp_path):
    results = [
        {"training_iteration": i, "timesteps_total": 100 * i, "timestamp": 1_750_000_000 + i,
         "date": "2026-01-01_00-00-00", "custom_metrics": {"x_timestamp": 1_750_000_000.5}}
        for i in (1, 2)
    ]  # fmt: skip
    sinks = [TensorBoardSink(str(tmp_path), {}), JsonSink(str(tmp_path), {})]
    for result in results:
        for sink in sinks:
            sink.on_result(result)
    for sink in sinks:
        sink.close()
    scalars = _scalars(tmp_path)
    assert scalars["plugrl/training_iteration"] == [(100, 1.0), (200, 2.0)]
    assert not [tag for tag in scalars if "timestamp" in tag or "date" in tag]
    lines = (tmp_path / "result.json").read_text().splitlines()
    assert [json.loads(line)["timestamp"] for line in lines] == [1_750_000_001, 1_750_000_002]


def test_tensorboard_sink_imports_no_torch(tmp_path):
    code = (
        "import sys\n"
        "from plugrl.builtins.loggers import TensorBoardSink\n"
        f"sink = TensorBoardSink({str(tmp_path)!r}, {{}})\n"
        "sink.on_result({'training_iteration': 1})\n"
        "sink.close()\n"
        "assert 'torch' not in sys.modules\n"
        "import torch\n"  # and torch still imports afterwards
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert _scalars(tmp_path)["plugrl/training_iteration"] == [(1, 1.0)]


def test_tensorboard_scalars_are_on_disk_when_on_result_returns(tmp_path):
    sink = TensorBoardSink(str(tmp_path), {})
    try:
        sink.on_result({"timesteps_total": 10, "episode_reward_mean": 9.5, "info": {"kl": 0.25}})
        assert _scalars(tmp_path) == {
            "plugrl/timesteps_total": [(10, 10.0)],
            "plugrl/episode_reward_mean": [(10, 9.5)],
            "plugrl/info/kl": [(10, 0.25)],
        }
    finally:
        sink.close()


def test_two_tensorboard_sinks_opened_at_once_keep_both_files(tmp_path):
    first, second = TensorBoardSink(str(tmp_path), {}), TensorBoardSink(str(tmp_path), {})
    first.on_result({"training_iteration": 1})
    second.on_result({"training_iteration": 2})
    for sink in (first, second):
        sink.close()
    assert sorted(_scalars(tmp_path)["plugrl/training_iteration"]) == [(1, 1.0), (2, 2.0)]
