"""Result sinks: progress.csv keeps every column, even ones that appear late."""

from __future__ import annotations

import csv

from plugrl.builtins.loggers import CSVSink


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
