"""Preprocessors (one-hot, flattening, unsupported spaces) and MeanStdFilter statistics."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

from plugrl import EnvError
from plugrl.env.filters import MeanStdFilter, NoFilter, make_filter
from plugrl.env.preprocessors import FlattenPreprocessor, get_preprocessor
from plugrl.errors import ConfigError


def test_discrete_one_hot():
    p = FlattenPreprocessor(spaces.Discrete(4))
    assert p.observation_space.shape == (4,)
    np.testing.assert_array_equal(p.transform(2), [0, 0, 1, 0])
    np.testing.assert_array_equal(p.transform_batch([0, 3]), [[1, 0, 0, 0], [0, 0, 0, 1]])


def test_discrete_with_start_offset():
    p = FlattenPreprocessor(spaces.Discrete(3, start=5))
    np.testing.assert_array_equal(p.transform(6), [0, 1, 0])


def test_tuple_flattens_in_order():
    space = spaces.Tuple((spaces.Discrete(2), spaces.Box(-1, 1, (2, 2), np.float32)))
    p = FlattenPreprocessor(space)
    assert p.size == 6
    out = p.transform((1, np.array([[1, 2], [3, 4]], np.float32)))
    np.testing.assert_array_equal(out, [0, 1, 1, 2, 3, 4])
    assert out.dtype == np.float32


def test_dict_flattens_by_space_key_order():
    space = spaces.Dict({"a": spaces.Discrete(3), "b": spaces.Box(0, 1, (2,), np.float32)})
    p = FlattenPreprocessor(space)
    obs = {"b": np.array([0.25, 0.5], np.float32), "a": 2}
    np.testing.assert_array_equal(p.transform(obs), [0, 0, 1, 0.25, 0.5])


def test_box_1d_is_identity():
    p = FlattenPreprocessor(spaces.Box(-1, 1, (3,), np.float32))
    assert p.is_identity
    np.testing.assert_array_equal(p.transform([1, 2, 3]), [1, 2, 3])


def test_unsupported_space_is_env_error():
    with pytest.raises(EnvError, match="not supported"):
        get_preprocessor(spaces.Text(5))
    with pytest.raises(EnvError):
        FlattenPreprocessor(spaces.Tuple((spaces.Discrete(2), spaces.Text(3))))


def test_mean_std_filter_matches_numpy():
    rng = np.random.default_rng(0)
    data = rng.normal(3.0, 2.0, size=(200, 3))
    f = MeanStdFilter((3,))
    for chunk in np.array_split(data, 7):
        f(chunk)
    np.testing.assert_allclose(f.rs.mean, data.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(f.rs.std, data.std(axis=0, ddof=1), rtol=1e-10)
    x = data[:5]
    out = f(x, update=False)
    np.testing.assert_allclose(out, (x - data.mean(0)) / (data.std(0, ddof=1) + 1e-8), rtol=1e-5)
    assert f.rs.n == 200  # update=False did not count


def test_filter_clips():
    f = MeanStdFilter((1,), clip=1.0)
    f(np.array([[0.0], [1.0], [2.0]]))
    assert f(np.array([100.0]), update=False)[0] == 1.0


def test_apply_changes_and_sync_merge_two_workers():
    rng = np.random.default_rng(1)
    a_data, b_data = rng.normal(0, 1, (50, 2)), rng.normal(5, 3, (80, 2))
    driver = MeanStdFilter((2,))
    w1, w2 = MeanStdFilter((2,)), MeanStdFilter((2,))
    w1(a_data)
    w2(b_data)
    for w in (w1, w2):
        snapshot = w.copy()
        w.clear_buffer()
        driver.apply_changes(snapshot)
    both = np.concatenate([a_data, b_data])
    assert driver.rs.n == 130
    np.testing.assert_allclose(driver.rs.mean, both.mean(0), rtol=1e-10)
    np.testing.assert_allclose(driver.rs.std, both.std(0, ddof=1), rtol=1e-10)
    w1.sync(driver)
    np.testing.assert_allclose(w1.rs.mean, both.mean(0))
    assert w1.buffer.n == 0
    # a second round only adds what was seen since the clear
    new = rng.normal(0, 1, (10, 2))
    w1(new)
    driver.apply_changes(w1.copy())
    assert driver.rs.n == 140


def test_filter_state_round_trip():
    f = MeanStdFilter((2,))
    f(np.arange(10.0).reshape(5, 2))
    g = MeanStdFilter((2,))
    g.set_state(f.get_state())
    np.testing.assert_array_equal(g.rs.mean, f.rs.mean)
    assert g.rs.n == 5


def test_make_filter():
    assert isinstance(make_filter("NoFilter", (2,)), NoFilter)
    assert isinstance(make_filter("MeanStdFilter", (2,)), MeanStdFilter)
    with pytest.raises(ConfigError, match="observation_filter"):
        make_filter("MeanStd", (2,))
