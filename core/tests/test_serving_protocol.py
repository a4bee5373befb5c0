"""The policy server without HTTP: how values and arrays travel, how the calls of clients
become trajectories (cut, bootstrapped, postprocessed), and what a local client may build
from what a server says."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from plugrl import RolloutWorker, ServingError
from plugrl.serving.client import client_policy_config
from plugrl.serving.episodes import ServedEpisodes
from plugrl.serving.protocol import (
    RequestError,
    action_from_json,
    check_body,
    decode_array,
    encode_array,
    observation_from_json,
    parse_json,
)
from plugrl_ppo import DEFAULT_CONFIG, PPOTorchPolicy

CARTPOLE = gym.make("CartPole-v1")


@pytest.mark.parametrize(
    "array",
    [np.arange(6, dtype=np.float32).reshape(2, 3), np.array([True, False]), np.int64(7)],
    ids=["float32", "bool", "scalar"],
)
def test_arrays_travel_as_raw_bytes(array):
    assert np.array_equal(decode_array(encode_array(np.asarray(array))), array)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"dtype": "|O", "shape": [1], "data": ""}, "not a numeric one"),
        (
            {"dtype": "<f4", "shape": [3], "data": "AAAAAA=="},
            "holds 4 bytes; dtype and shape need 12",
        ),
        ({"dtype": "<f4", "shape": [-1], "data": ""}, "not a list of integers"),
        ({"dtype": "<f4", "shape": [1], "data": "***"}, "not base64"),
        ({"dtype": "<f4", "shape": [1]}, "dtype, shape and data"),
    ],
)
def test_arrays_that_are_not_numbers_are_refused(data, words):
    with pytest.raises(ValueError, match=words):
        decode_array(data, "weights")


def test_observations_are_checked_against_their_space():
    space = gym.spaces.Dict(
        {"pos": gym.spaces.Box(-1.0, 1.0, (2,)), "mode": gym.spaces.Discrete(3)}
    )
    value = observation_from_json(space, {"pos": [5.0, 0.5], "mode": 2})  # bounds: the env's
    assert value["pos"].dtype == np.float32 and value["mode"] == 2
    for bad, words in [
        ({"pos": [0.0, 0.0], "mode": 3}, "outside"),
        ({"pos": [0.0, 0.0], "mode": True}, "holds integers"),
        ({"pos": [0.0], "mode": 0}, "shape (1,)"),
        ({"pos": [0.0, 0.0]}, "lacks key(s) 'mode'"),
        ([0.0, 0.0], "not a dict"),
    ]:
        with pytest.raises(RequestError, match="The observation") as error:
            observation_from_json(space, bad)
        assert error.value.status == 422 and words in error.value.message
    with pytest.raises(RequestError, match="not finite"):
        observation_from_json(CARTPOLE.observation_space, [0.0, 1e400, 0.0, 0.0])


def test_actions_are_checked_against_their_space():
    assert action_from_json(gym.spaces.Discrete(2), 1) == 1
    box = gym.spaces.Box(-1.0, 1.0, (2,))
    assert action_from_json(box, [3.0, -2.0]).tolist() == [3.0, -2.0]  # clipping: the env's
    for space, bad, words in [
        (gym.spaces.Discrete(2), 2, "outside action_space"),
        (gym.spaces.Discrete(2), 0.5, "holds integers"),
        (box, [1.0], "shape (1,)"),
        (box, ["a", "b"], "holds numbers"),
    ]:
        with pytest.raises(RequestError, match="The action") as error:
            action_from_json(space, bad)
        assert words in error.value.message


def test_bodies_are_parsed_and_checked_field_by_field():
    assert parse_json(b'{"a": 1}') == {"a": 1}
    for raw, words in [(b"\xff", "not UTF-8"), (b"[1,", "not JSON"), (b"[Infinity]", "Infinity")]:
        with pytest.raises(RequestError, match=words):
            parse_json(raw)
    assert check_body("start_episode", {}) == {}
    with pytest.raises(RequestError, match="'training_enabled' must be bool"):
        check_body("start_episode", {"training_enabled": 1})


def worker(**overrides) -> RolloutWorker:
    config = {
        **DEFAULT_CONFIG,
        "env": None,
        "observation_space": CARTPOLE.observation_space,
        "action_space": CARTPOLE.action_space,
        "rollout_fragment_length": 4,
        "model": {"fcnet_hiddens": [8]},
        "seed": 0,
        **overrides,
    }
    return RolloutWorker(None, PPOTorchPolicy, config)


def play(episodes: ServedEpisodes, steps: int, truncated: bool = False, **start) -> str:
    episode_id = episodes.start_episode(**start)
    obs = [0.1, 0.0, 0.0, 0.0]
    for t in range(steps):
        episodes.get_action(episode_id, obs)
        episodes.log_returns(episode_id, 0.5)
        episodes.log_returns(episode_id, 0.5, {"t": t})  # rewards add up, the info is the last
    episodes.end_episode(episode_id, [0.2, 0.0, 0.0, 0.0], truncated=truncated)
    return episode_id


def test_calls_become_cut_bootstrapped_postprocessed_trajectories():
    served = ServedEpisodes(worker())
    play(served, 6)  # cut after 4 steps, then the last 2 (terminated)
    play(served, 3, truncated=True)
    play(served, 2, training_enabled=False)  # acted, reported, not learned from
    batch = served.next_batch(9)
    assert batch.count == 9
    assert batch["t"].tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2]
    assert batch["rewards"].tolist() == [1.0] * 9
    assert batch["infos"][0] == {"t": 0}
    assert batch["terminateds"].tolist() == [False] * 5 + [True] + [False] * 3
    assert batch["truncateds"].tolist() == [False] * 8 + [True]
    assert batch["unroll_id"].tolist() == [0] * 4 + [1] * 2 + [2] * 3
    assert np.array_equal(batch["new_obs"][:3], batch["obs"][1:4])
    # the cut and the truncated trajectories bootstrap from the critic; the terminated one not
    policy = served.worker.policy
    gamma = policy.config["gamma"]
    last = {3: policy.value(batch["new_obs"][3]), 5: 0.0, 8: policy.value(batch["new_obs"][8])}
    for row, value in last.items():
        target = batch["rewards"][row] + gamma * value
        assert batch["value_targets"][row] == pytest.approx(target, rel=1e-4, abs=1e-5)
    assert {"advantages", "vf_preds", "action_logp", "action_dist_inputs"} <= set(batch)
    assert [(m.episode_length, m.episode_reward) for m in served.get_metrics()] == [
        (6, 6.0),
        (3, 3.0),
        (2, 2.0),
    ]
    assert served.get_metrics() == []


def test_calls_in_the_wrong_order_are_refused():
    served = ServedEpisodes(worker())

    def refused(call, status: int, code: str) -> None:
        with pytest.raises(RequestError) as error:
            call()
        assert (error.value.status, error.value.code) == (status, code)

    episode_id = served.start_episode("ep")
    refused(lambda: served.log_returns("ep", 1.0), 409, "no_action")
    refused(lambda: served.start_episode("ep"), 409, "episode_exists")
    refused(lambda: served.get_action("other", [0.0] * 4), 404, "unknown_episode")
    waiting = served.prepare_action(episode_id, [0.0] * 4)  # the server batches these
    refused(lambda: served.log_returns("ep", 1.0), 409, "episode_busy")
    refused(lambda: served.get_action("ep", [0.0] * 4), 409, "episode_busy")
    other = served.prepare_action(served.start_episode(), [1.0] * 4)
    assert len(served.act([waiting, other])) == 2  # one call of the policy for both
    served.end_episode(episode_id, [0.0] * 4)
    refused(lambda: served.get_action("ep", [0.0] * 4), 409, "episode_ended")
    refused(lambda: served.start_episode("ep"), 409, "episode_exists")


def test_logged_actions_carry_the_policys_likelihood_of_them():
    served = ServedEpisodes(worker())
    episode_id = served.start_episode()
    obs = [0.1, 0.2, 0.3, 0.4]
    served.log_action(episode_id, obs, 1)
    served.end_episode(episode_id, obs)
    batch = served.next_batch(1)
    expected = served.policy.compute_log_likelihoods(np.array([1]), np.array([obs], np.float32))
    assert batch["actions"].tolist() == [1]
    assert batch["action_logp"][0] == pytest.approx(float(expected[0]), abs=1e-5)
    assert batch["action_prob"][0] == pytest.approx(np.exp(float(expected[0])), abs=1e-5)


def test_a_local_policys_steps_are_taken_with_their_extra_outputs():
    served = ServedEpisodes(worker())
    extra = {"vf_preds": 0.5, "action_dist_inputs": [0.1, -0.1], "action_logp": -0.6}
    extra["action_prob"] = float(np.exp(-0.6))
    episode_id = served.start_episode()
    served.log_policy_action(episode_id, [0.0] * 4, 0, extra)
    for bad, words in [
        ({**extra, "q": 1.0}, "unknown keys ['q']"),
        ({**extra, "vf_preds": [1.0, 2.0]}, "shape []"),
        ({**extra, "action_logp": "x"}, "finite numbers"),
    ]:
        with pytest.raises(RequestError, match="extra") as error:
            served.log_policy_action(episode_id, [0.0] * 4, 0, bad)
        assert words in error.value.message
    served.end_episode(episode_id, [0.0] * 4)
    batch = served.next_batch(1)
    assert batch["vf_preds"].tolist() == [0.5] and batch["action_logp"].dtype == np.float32


def test_the_worker_filter_learns_from_served_observations_on_the_workers_thread():
    served = ServedEpisodes(worker(observation_filter="MeanStdFilter"))
    filt = served.worker.filters["default_policy"]
    play(served, 4)
    assert filt.rs.n == 0  # the server's thread only reads a copy
    served.next_batch(4)
    assert filt.rs.n == 4  # counted when the worker took the steps


def test_a_worker_that_falls_behind_drops_the_oldest_steps():
    served = ServedEpisodes(worker(), max_queued_steps=8)
    for _ in range(4):
        play(served, 4)
    assert served.num_dropped_steps == 8 and served.stats()["queued_steps"] == 8


def test_a_closed_server_wakes_its_waiting_worker():
    served = ServedEpisodes(worker())
    served.close()
    with pytest.raises(ServingError, match="closed"):
        served.next_batch(4)


def test_a_client_builds_its_policy_only_from_registered_names():
    config = {
        **DEFAULT_CONFIG,
        "callbacks": "evil.module:Callbacks",
        "input": "evil.module.make_input",
        "env": "evil.module:Env",
        "num_gpus": 1,
    }
    safe = client_policy_config(config)
    assert "callbacks" not in safe and "input" not in safe and safe["env"] is None
    assert safe["num_gpus"] == 0
    custom = {**config, "exploration_config": {"type": "evil.module.Exploration"}}
    with pytest.raises(ServingError, match="never imports code it is sent"):
        client_policy_config(custom)
