"""Config values are checked for type and range: a bad value is one ConfigError line naming
the key, what it allows and the value seen; YAML numbers like ``1e-3`` read as numbers."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugrl import ConfigError, with_common_config
from plugrl.cli.train import load_experiments
from plugrl.config import merge_trainer_config
from plugrl.config_schema import LOG_LEVELS, CommonConfig, check_config
from plugrl.testing import cli_error, run_cli
from plugrl.trainer import build_trainer
from plugrl_a3c import A2CTrainer, A3CTrainer
from plugrl_a3c.config import A2C_DEFAULT_CONFIG, A2CConfig, A3CConfig
from plugrl_a3c.config import DEFAULT_CONFIG as A3C_DEFAULT_CONFIG
from plugrl_dqn import DQNTrainer, SimpleQTrainer
from plugrl_dqn.config import DEFAULT_CONFIG as DQN_DEFAULT_CONFIG
from plugrl_dqn.config import SIMPLE_Q_DEFAULT_CONFIG, DQNConfig, SimpleQConfig
from plugrl_pg import PGTrainer
from plugrl_pg.config import DEFAULT_CONFIG as PG_DEFAULT_CONFIG
from plugrl_pg.config import PGConfig
from plugrl_ppo import DEFAULT_CONFIG, PPOTrainer
from plugrl_ppo.config import PPOConfig
from plugrl_ppo.testing import TINY_CONFIG

# The bad values of the reliability issue, and the key each error must name.
ISSUE_CASES = [
    ({"lr": "1e-3"}, "lr"),
    ({"lr": "fast"}, "lr"),
    ({"seed": "abc"}, "seed"),
    ({"model": [1, 2]}, "model"),
    ({"model": {"fcnet_hiddens": "abc"}}, "model.fcnet_hiddens"),
    ({"clip_rewards": "yes"}, "clip_rewards"),
    ({"gamma": 2}, "gamma"),
    ({"explore": "no"}, "explore"),
    ({"num_sgd_iter": 0}, "num_sgd_iter"),
    ({"evaluation_interval": -1}, "evaluation_interval"),
    ({"metrics_smoothing_episodes": 0}, "metrics_smoothing_episodes"),
    ({"log_level": "LOUD"}, "log_level"),
    ({"num_workers": True}, "num_workers"),
    ({"evaluation_config": {"gamma": 2}}, "evaluation_config.gamma"),
]


def _assert_one_line(error: pytest.ExceptionInfo[ConfigError], key: str) -> None:
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"Config key {key!r} must be "), message


@pytest.mark.parametrize(("overrides", "key"), ISSUE_CASES)
def test_issue_values_are_one_line_errors_naming_the_key(tmp_path, overrides, key):
    with pytest.raises(ConfigError) as error:
        PPOTrainer(config={**TINY_CONFIG, **overrides}, logdir=str(tmp_path))
    _assert_one_line(error, key)


def test_messages_say_what_is_allowed_and_the_value_seen():
    def message(**overrides: Any) -> str:
        with pytest.raises(ConfigError) as error:
            merge_trainer_config(DEFAULT_CONFIG, overrides, PPOConfig)
        return str(error.value)

    assert message(gamma=2) == "Config key 'gamma' must be a number between 0 and 1, got 2."
    assert message(lr="fast") == "Config key 'lr' must be a number >= 0, got 'fast' (a string)."
    assert message(lr=math.inf).endswith("got inf (not a finite number).")
    assert message(gamma=2, lr=-1, seed=-1).endswith(", got 2. Also invalid: 'lr', 'seed'.")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"lr": "fast"}, "Config key 'lr' must be a number >= 0, got 'fast' (a string)."),
        ({"model": {"fcnet_hiddens": "abc"}}, "Config key 'model.fcnet_hiddens' must be a list"),
        ({"log_level": "LOUD"}, "Config key 'log_level' must be 'DEBUG', 'INFO', 'WARN'"),
    ],
)
def test_cli_reports_a_bad_value_on_one_line(capsys, tmp_path, overrides, expected):
    args = ("--config", json.dumps(overrides), "--local-dir", str(tmp_path))
    line = cli_error(capsys, "train", "--run", "PPO", "--env", "CartPole-v1", *args)
    assert line.startswith(f"plugrl: error: {expected}")
    assert not list(tmp_path.glob("*/*")), "no empty run folder is left behind"


def test_yaml_exponents_without_a_dot_are_floats(capsys, tmp_path):
    config = {k: v for k, v in TINY_CONFIG.items() if k != "env"}
    path = tmp_path / "ppo.yaml"
    path.write_text(
        "cartpole:\n  run: PPO\n  env: CartPole-v1\n  config:\n    lr: 1e-3\n    gamma: 9.9e-1\n"
        + "".join(f"    {key}: {json.dumps(value)}\n" for key, value in config.items())
    )
    stop = json.dumps({"training_iteration": 1})
    code, _, err = run_cli(
        capsys, "train", "-f", str(path), "--stop", stop, "--local-dir", str(tmp_path)
    )
    assert code == 0, err
    (params,) = tmp_path.rglob("params.json")
    saved = json.loads(params.read_text())
    assert (saved["lr"], saved["gamma"]) == (1e-3, 0.99)
    assert isinstance(saved["lr"], float) and isinstance(saved["gamma"], float)


def test_yaml_loading_is_still_safe_yaml(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("run: PPO\nconfig: {a: 1e-3, b: -2E+5, c: 1e, d: e3, e: 0x1f, f: '1e-3'}\n")
    (spec,) = load_experiments(str(path)).values()
    assert spec["config"] == {"a": 1e-3, "b": -2e5, "c": "1e", "d": "e3", "e": 31, "f": "1e-3"}
    path.write_text("run: PPO\nconfig: !!python/object/apply:os.getcwd []\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_experiments(str(path))


def _keys(schema: type[CommonConfig]) -> set[str]:
    return {field.alias or name for name, field in schema.model_fields.items()}


@pytest.mark.parametrize(
    ("trainer", "defaults", "schema", "bad", "key"),
    [
        (PPOTrainer, DEFAULT_CONFIG, PPOConfig, {"clip_param": 0}, "clip_param"),
        (A2CTrainer, A2C_DEFAULT_CONFIG, A2CConfig, {"microbatch_size": 0}, "microbatch_size"),
        (A3CTrainer, A3C_DEFAULT_CONFIG, A3CConfig, {"lambda": 1.5}, "lambda"),
        (DQNTrainer, DQN_DEFAULT_CONFIG, DQNConfig, {"n_step": "3"}, "n_step"),
        (SimpleQTrainer, SIMPLE_Q_DEFAULT_CONFIG, SimpleQConfig, {"buffer_size": 0}, "buffer_size"),
        (
            PGTrainer,
            PG_DEFAULT_CONFIG,
            PGConfig,
            {"standardize_returns": "yes"},
            "standardize_returns",
        ),
    ],
)
def test_each_algorithm_has_a_rule_for_every_key(tmp_path, trainer, defaults, schema, bad, key):
    assert _keys(schema) == set(defaults)
    check_config(defaults, schema)
    with pytest.raises(ConfigError) as error:
        trainer(config={"env": "CartPole-v1", **bad}, logdir=str(tmp_path))
    _assert_one_line(error, key)


def test_trainers_without_a_schema_check_the_common_keys(tmp_path):
    defaults = with_common_config({"my_key": 1})
    merge_trainer_config(defaults, {"my_key": "anything"})
    with pytest.raises(ConfigError) as error:
        build_trainer("Custom", default_config=defaults)(config={"gamma": 2}, logdir=str(tmp_path))
    _assert_one_line(error, "gamma")
    with pytest.raises(ConfigError) as error:  # a subclass keeps its parent's schema
        PPOTrainer.with_updates(name="MyPPO")(config={"num_sgd_iter": 0}, logdir=str(tmp_path))
    _assert_one_line(error, "num_sgd_iter")


def test_python_values_that_mean_numbers_and_lists_are_accepted():
    overrides = {
        "lr": np.float32(1e-3),
        "num_workers": np.int64(0),
        "log_level": "debug",
        "model": {"fcnet_hiddens": (8, 8)},
        "lr_schedule": [(0, 1e-3), (1000, 0)],
    }
    merge_trainer_config(DEFAULT_CONFIG, overrides, PPOConfig)


# Property-based: configs mixing valid and arbitrary JSON values.


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _pairs(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(p, list) and len(p) == 2 and all(_number(x) and x >= 0 for x in p) for p in value
    )


UNIT = (st.floats(0, 1), lambda v: _number(v) and 0 <= v <= 1)
NON_NEGATIVE = (st.floats(0, 10), lambda v: _number(v) and v >= 0)
COUNT = (st.integers(1, 64), lambda v: _integer(v) and v >= 1)
OPTIONAL_COUNT = (st.none() | st.integers(1, 64), lambda v: v is None or COUNT[1](v))
ACTIVATIONS = (None, "tanh", "relu", "elu", "swish", "linear")

# Each key's documented rule, and a strategy for values that follow it.
RULES: dict[str, tuple[st.SearchStrategy, Callable[[Any], bool]]] = {
    "gamma": UNIT,
    "lr": NON_NEGATIVE,
    "num_workers": (st.integers(0, 4), lambda v: _integer(v) and v >= 0),
    "train_batch_size": COUNT,
    "rollout_fragment_length": COUNT,
    "batch_mode": (
        st.sampled_from(["truncate_episodes", "complete_episodes"]),
        lambda v: v in ("truncate_episodes", "complete_episodes"),
    ),
    "log_level": (
        st.sampled_from(["DEBUG", "info", "Warn", "ERROR"]),
        lambda v: isinstance(v, str) and v.upper() in LOG_LEVELS,
    ),
    "explore": (st.booleans(), lambda v: isinstance(v, bool)),
    "evaluation_interval": OPTIONAL_COUNT,
    "horizon": OPTIONAL_COUNT,
    "metrics_smoothing_episodes": COUNT,
    "clip_rewards": (
        st.none() | st.booleans() | st.floats(0, 10),
        lambda v: v is None or isinstance(v, bool) or NON_NEGATIVE[1](v),
    ),
    "seed": (st.none() | st.integers(0, 2**32), lambda v: v is None or (_integer(v) and v >= 0)),
    "observation_filter": (
        st.sampled_from(["NoFilter", "MeanStdFilter"]),
        lambda v: v in ("NoFilter", "MeanStdFilter"),
    ),
    "env_config": (
        st.dictionaries(st.text(max_size=3), st.integers()),
        lambda v: isinstance(v, dict),
    ),
    "model.fcnet_hiddens": (
        st.lists(st.integers(1, 64), max_size=3),
        lambda v: isinstance(v, list) and all(COUNT[1](x) for x in v),
    ),
    "model.fcnet_activation": (st.sampled_from(ACTIVATIONS), lambda v: v in ACTIVATIONS),
    "model.max_seq_len": COUNT,
    "model.lstm_cell_size": COUNT,
    "model.use_lstm": (st.booleans(), lambda v: isinstance(v, bool)),
    "model.lstm_use_prev_action": (st.booleans(), lambda v: isinstance(v, bool)),
    "lambda": UNIT,
    "num_sgd_iter": COUNT,
    "sgd_minibatch_size": COUNT,
    "clip_param": (st.floats(0.01, 1), lambda v: _number(v) and v > 0),
    "entropy_coeff": NON_NEGATIVE,
    "grad_clip": (st.none() | st.floats(0.1, 40), lambda v: v is None or (_number(v) and v > 0)),
    "lr_schedule": (
        st.none() | st.lists(st.lists(st.floats(0, 1e6), min_size=2, max_size=2), max_size=3),
        lambda v: v is None or _pairs(v),
    ),
}

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
# Values that break one rule or another by a little, drawn as often as the rest.
NEAR_MISSES = [-1, 0, 1, 2, -0.5, 0.5, 1.5, math.nan, True, "1e-3", "abc", [0], {}]
ARBITRARY = st.sampled_from(NEAR_MISSES) | JSON


@st.composite
def drawn_values(draw: st.DrawFn) -> dict[str, Any]:
    """``{key path: value}``: a few keys, each valid or arbitrary JSON, some of them set in
    ``evaluation_config``."""
    keys = draw(st.lists(st.sampled_from(sorted(RULES)), min_size=1, max_size=3, unique=True))
    drawn = {}
    for key in keys:
        where = draw(st.sampled_from(["", "evaluation_config."]))
        valid = draw(st.integers(0, 2))  # valid 2 times in 3, so that some configs pass
        drawn[where + key] = draw(RULES[key][0] if valid else ARBITRARY)
    return drawn


def _nested(drawn: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for path, value in drawn.items():
        *parents, key = path.split(".")
        node = config
        for parent in parents:
            node = node.setdefault(parent, {})
        node[key] = value
    return config


@settings(derandomize=True, deadline=None, max_examples=500)
@given(drawn=drawn_values())
def test_any_config_is_accepted_only_if_every_value_follows_its_rule(drawn):
    try:
        merge_trainer_config(DEFAULT_CONFIG, _nested(drawn), PPOConfig)
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message
        match = re.match(r"Config key '([^']+)' must be .+, got .+\.$", message)
        assert match, message
        assert match.group(1) in drawn, message
    else:
        for path, value in drawn.items():
            assert RULES[path.removeprefix("evaluation_config.")][1](value), (path, value)


@pytest.mark.parametrize("path", sorted(RULES))
def test_near_misses_are_accepted_only_if_they_follow_the_rule(path):
    for value in NEAR_MISSES:
        drawn = {path: value}
        try:
            merge_trainer_config(DEFAULT_CONFIG, _nested(drawn), PPOConfig)
        except ConfigError as exc:
            assert str(exc).startswith(f"Config key {path!r} must be "), str(exc)
        else:
            assert RULES[path][1](value), (path, value)
