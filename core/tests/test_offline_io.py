"""Offline data on its own: the line format, JsonWriter and JsonReader (local and fsspec
memory:// files), bad lines, mixed and shuffled inputs, SampleBatchBuilder, and the IS / WIS
estimators against a hand computation."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

from plugrl import ConfigError, OfflineDataError, SampleBatch
from plugrl.env.preprocessors import get_preprocessor
from plugrl.offline import (
    ImportanceSamplingEstimator,
    IOContext,
    JsonReader,
    JsonWriter,
    MixedInput,
    SampleBatchBuilder,
    ShuffledInput,
    WeightedImportanceSamplingEstimator,
)
from plugrl.offline.codec import CorruptLine, decode_line, encode_batch


def batch(n: int = 5, eps_id: int = 0, start: float = 0.0) -> SampleBatch:
    return SampleBatch(
        obs=np.arange(start, start + 4 * n, dtype=np.float32).reshape(n, 4),
        new_obs=np.ones((n, 4), dtype=np.float32),
        actions=np.arange(n) % 2,
        rewards=np.ones(n, dtype=np.float32),
        terminateds=np.arange(n) == n - 1,
        eps_id=np.full(n, eps_id),
        infos=[{"step": i} for i in range(n)],
    )


def assert_same(a: SampleBatch, b: SampleBatch) -> None:
    assert set(a) == set(b)
    for key in a:
        if key == "infos":
            assert list(a[key]) == list(b[key])
        else:
            np.testing.assert_array_equal(a[key], b[key])
            assert a[key].dtype.kind == b[key].dtype.kind


@pytest.mark.parametrize("compress", [["obs", "new_obs"], []], ids=["lz4", "readable"])
def test_a_batch_survives_a_line(compress):
    original = batch()
    line = encode_batch(original, compress)
    assert "\n" not in line
    data = json.loads(line)
    assert data["type"] == "SampleBatch"
    assert isinstance(data["obs"], dict if compress else list)
    assert isinstance(data["actions"], list)  # never compressed unless asked
    assert_same(decode_line(line), original)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON list"),
        ('{"type": "Pickle", "obs": [1]}', "type 'Pickle'"),
        ('{"obs": {"dtype": "|O", "shape": [1], "lz4": ""}}', "not numeric"),
        ('{"obs": {"dtype": "<f8", "shape": [1000000000000], "lz4": "BCJNGGBAgg=="}}', "holds"),
        ('{"obs": [1, 2], "actions": [1]}', "equal lengths"),
        ('{"obs": 3}', "expected a list"),
    ],
)
def test_a_line_that_is_not_a_batch_says_why(line, reason):
    with pytest.raises(CorruptLine, match=re.escape(reason)):
        decode_line(line)


def test_writer_rolls_files_with_the_seeds_names_and_reader_reads_them_back(tmp_path):
    writer = JsonWriter(str(tmp_path / "out"), IOContext(worker_index=3), max_file_size=2000)
    written = [batch(5, eps_id=i, start=i) for i in range(6)]
    for b in written:
        writer.write(b)
    writer.close()
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(files) > 1
    pattern = r"output-\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_worker-3_\d+\.json"
    assert all(re.fullmatch(pattern, f) for f in files), files
    reader = JsonReader(str(tmp_path / "out"), IOContext(config={"seed": 0}))
    got = [reader.next() for _ in range(6)]
    assert sorted(int(b["eps_id"][0]) for b in got) == list(range(6))  # each once per pass
    for b in got:
        assert_same(b, written[int(b["eps_id"][0])])


def test_fsspec_urls_globs_and_lists(tmp_path):
    writer = JsonWriter("memory://offline-test/run", max_file_size=10**9)
    writer.write(batch(3))
    writer.close()
    (path,) = writer.files_written
    assert JsonReader("memory://offline-test/run/*.json").next().count == 3
    assert JsonReader([f"memory://{path}"]).next().count == 3
    with pytest.raises(OfflineDataError, match="does not exist"):
        JsonReader(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(OfflineDataError, match="holds no JSON files"):
        JsonReader(str(tmp_path / "empty"))


def test_plain_files_written_by_hand_are_read(tmp_path):
    rows = {"obs": [[0.0, 1.0], [1.0, 2.0]], "actions": [0, 1], "rewards": [1.0, 0.5]}
    (tmp_path / "hand.json").write_text(json.dumps(rows) + "\n")
    got = JsonReader(str(tmp_path / "hand.json")).next()
    np.testing.assert_array_equal(got["obs"], rows["obs"])


def test_bad_lines_are_named_by_file_and_line_then_skipped_or_raised(tmp_path, caplog):
    good = encode_batch(batch(2))
    path = tmp_path / "data.json"
    path.write_text(f"{good}\nnot json at all\n\n{good}\n")
    reader = JsonReader(str(path))
    with caplog.at_level(logging.WARNING, logger="plugrl"):
        assert reader.next().count == 2
        assert reader.next().count == 2
    assert f"{path}, line 2" in caplog.text
    assert reader.num_bad_lines == 1
    with pytest.raises(OfflineDataError, match=r"data.json, line 2 is not a batch: not JSON"):
        strict = JsonReader(str(path), on_bad_line="raise")
        strict.next()
        strict.next()
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.json").write_text("junk\n")
    with pytest.raises(OfflineDataError, match="none of the 1 files holds a batch"):
        JsonReader(str(tmp_path / "junk")).next()
    with pytest.raises(ConfigError, match="on_bad_line"):
        JsonReader(str(path), on_bad_line="ignore")


def test_a_writer_killed_mid_batch_leaves_every_earlier_line_valid(tmp_path):
    """A child process writes batches and is killed with SIGKILL while it writes; the lines
    it finished read back, and a line cut short is reported, not read."""
    script = f"""
import numpy as np, os, signal
from plugrl import SampleBatch
from plugrl.offline import JsonWriter
writer = JsonWriter({str(tmp_path)!r})
for i in range(3):
    writer.write(SampleBatch(obs=np.zeros((50, 4)), eps_id=np.full(50, i)))
writer._file.write(b'{{"type": "SampleBatch", "obs": [[0.0, ')  # the 4th, half written
writer._file.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""
    subprocess.run([sys.executable, "-c", script], check=False)
    (file,) = tmp_path.iterdir()
    reader = JsonReader(str(file))
    ids = [int(reader.next()["eps_id"][0]) for _ in range(4)]
    assert ids == [0, 1, 2, 0]  # then the file again from the start
    assert reader.num_bad_lines == 1


def test_mixed_input_draws_sources_by_probability(tmp_path):
    for name, value in (("a", 1), ("b", 2)):
        writer = JsonWriter(str(tmp_path / name))
        writer.write(SampleBatch(obs=np.zeros((1, 2)), actions=np.array([value])))
        writer.close()
    mixed = MixedInput(
        {str(tmp_path / "a"): 0.25, str(tmp_path / "b"): 0.75}, IOContext(config={"seed": 1})
    )
    draws = [int(mixed.next()["actions"][0]) for _ in range(2000)]
    assert draws.count(1) / 2000 == pytest.approx(0.25, abs=0.04)
    with pytest.raises(ConfigError, match="add up to 1"):
        MixedInput({str(tmp_path / "a"): 0.5})


def test_shuffled_input_mixes_rows_of_several_batches():
    class Counting:
        def __init__(self):
            self.n = 0

        def next(self):
            self.n += 1
            return SampleBatch(eps_id=np.full(10, self.n))

    shuffled = ShuffledInput(Counting(), buffer_size=50, seed=0)
    out = shuffled.next()
    assert out.count == 10
    assert len(set(out["eps_id"].tolist())) > 1


def test_sample_batch_builder_writes_the_seeds_columns(tmp_path):
    env = gym.make("CartPole-v1")
    prep = get_preprocessor(env.observation_space)(env.observation_space)
    builder = SampleBatchBuilder()
    writer = JsonWriter(str(tmp_path))
    obs, _ = env.reset(seed=0)
    prev_action, prev_reward = 0, 0.0
    for t in range(5):
        action = env.action_space.sample()
        new_obs, reward, terminated, truncated, info = env.step(action)
        builder.add_values(
            t=t,
            eps_id=0,
            agent_index=0,
            obs=prep.transform(obs),
            actions=action,
            action_prob=0.5,
            rewards=reward,
            prev_actions=prev_action,
            prev_rewards=prev_reward,
            dones=terminated or truncated,
            infos=info,
            new_obs=prep.transform(new_obs),
        )
        obs, prev_action, prev_reward = new_obs, action, reward
    writer.write(builder.build_and_reset())
    writer.close()
    assert builder.count == 0
    got = JsonReader(str(tmp_path)).next()
    assert got.count == 5
    assert got["obs"].shape == (5, 4)
    with pytest.raises(ValueError, match="same columns"):
        builder.add_values(t=0)
        builder.add_values(t=1, eps_id=0)


class FixedPolicy:
    """Gives every logged action the probability ``prob``."""

    def __init__(self, prob):
        self.prob = np.asarray(prob, dtype=np.float64)

    def compute_log_likelihoods(self, actions, obs):
        return np.log(self.prob)


def test_is_and_wis_equal_a_hand_computed_case():
    gamma = 0.5
    episode = SampleBatch(
        obs=np.zeros((3, 1)),
        actions=np.zeros(3, dtype=np.int64),
        rewards=np.array([1.0, 2.0, 4.0]),
        action_prob=np.array([0.5, 0.5, 0.25]),
    )
    policy = FixedPolicy([1.0, 0.25, 0.5])
    # ratios 2, 0.5, 2 -> cumulative 2, 1, 2; discounts 1, 0.5, 0.25
    v_prev = 1 + 0.5 * 2 + 0.25 * 4  # 3
    v_is = 2 * 1 + 1 * 0.5 * 2 + 2 * 0.25 * 4  # 5
    estimate = ImportanceSamplingEstimator(policy, gamma).estimate(episode)
    assert estimate.estimator_name == "is"
    assert estimate.metrics == pytest.approx(
        {"V_prev": v_prev, "V_step_IS": v_is, "V_gain_est": v_is / v_prev}
    )
    wis = WeightedImportanceSamplingEstimator(policy, gamma)
    first = wis.estimate(episode)  # alone, each cumulative ratio is its own mean
    assert first.metrics["V_step_WIS"] == pytest.approx(v_prev)
    second_episode = SampleBatch({**episode, "action_prob": np.array([1.0, 1.0, 1.0])})
    # second episode: ratios 1, 0.25, 0.5 -> cumulative 1, 0.25, 0.125; means over both
    # episodes at each step: 1.5, 0.625, 1.0625
    second = wis.estimate(second_episode)
    expected = 1 / 1.5 * 1 + 0.25 / 0.625 * 0.5 * 2 + 0.125 / 1.0625 * 0.25 * 4
    assert second.metrics["V_step_WIS"] == pytest.approx(expected)


def test_estimation_without_action_prob_says_what_to_do():
    with pytest.raises(OfflineDataError, match="input_evaluation: \\[\\]"):
        ImportanceSamplingEstimator(FixedPolicy([1.0]), 0.9).estimate(
            SampleBatch(obs=np.zeros((1, 1)), actions=[0], rewards=[1.0])
        )
