"""External agents over HTTP: a trainer with no env serves its policy (PolicyServerInput) and
learns from CartPole clients in other processes (examples/serving/cartpole_client.py, remote
and local inference); bad requests get a 4xx naming the problem while it keeps serving and
learning; remote workers serve on ports of their own."""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from plugrl import PolicyClient, PolicyServerInput, ServingError
from plugrl.registry import get_trainer_class
from plugrl.testing import local_ray

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples" / "serving"


def _example_server() -> Any:
    spec = importlib.util.spec_from_file_location(
        "cartpole_server", EXAMPLES / "cartpole_server.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SERVER = _example_server()
TOKEN = "s3cret"


@contextlib.contextmanager
def served(run: str, tmp_path: Path, **overrides: Any) -> Iterator[Any]:
    """A trainer of the example server's config on a free port of 127.0.0.1."""
    config = SERVER.server_config(run, port=0, **{"seed": 0, **overrides})
    trainer = get_trainer_class(run)(config=config, logdir=str(tmp_path))
    try:
        yield trainer
    finally:
        trainer.stop()


def _reader(trainer: Any) -> Any:
    return trainer.workers.local_worker().input_reader


@contextlib.contextmanager
def client_process(url: str, mode: str, reader: Any) -> Iterator[subprocess.Popen]:
    """The example client playing against ``url`` in a process of its own. Should it die,
    the server is closed, so that a worker waiting for its experiences fails instead of
    waiting for ever."""
    command = [sys.executable, str(EXAMPLES / "cartpole_client.py"), "--server", url]
    command += ["--inference-mode", mode, "--update-interval", "1"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.5):
            if proc.poll() is not None:
                reader.close()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield proc
    finally:
        done.set()
        proc.terminate()
        _, err = proc.communicate(timeout=30)
        assert proc.returncode in (0, -15), err[-2000:]


# --- learning -------------------------------------------------------------------------------


@pytest.mark.learning
@pytest.mark.parametrize(
    ("run", "mode", "reward", "budget"),
    [("PPO", "remote", 150, 30_000), ("PPO", "local", 150, 40_000), ("DQN", "remote", 100, 30_000)],
    ids=["ppo-remote", "ppo-local", "dqn-remote"],
)
def test_a_served_trainer_learns_cartpole_from_a_client_process(
    tmp_path, run, mode, reward, budget
):
    """The mean return is over the last 20 episodes the client ended (the example server's
    metrics_smoothing_episodes): the server's policy, as the client played it. DQN's bar is
    100 (it passes 150 too, in about 6k steps, but takes half as long again to get there)."""
    with served(run, tmp_path) as trainer:
        reader = _reader(trainer)
        start = time.time()
        with client_process(reader.url, mode, reader):
            while True:
                result = trainer.train()
                got = result["episode_reward_mean"]
                if got >= reward or result["timesteps_total"] >= budget:
                    break
        assert got >= reward, (
            f"{run} served to a {mode} client reached {got:.1f}, not {reward}, in "
            f"{result['timesteps_total']} steps ({time.time() - start:.0f} s)"
        )
        assert reader.episodes.num_dropped_steps == 0


# --- bad requests ---------------------------------------------------------------------------


def _http(
    url: str, method: str, path: str, body: Any = None, token: str | None = TOKEN
) -> tuple[int, Any]:
    """One request with http.client: ``(status, JSON answer)``. ``body`` bytes go as they
    are, anything else as JSON."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def _play(client: PolicyClient, stop: threading.Event, errors: list | None = None) -> None:
    """CartPole episodes until ``stop``; what goes wrong is appended to ``errors``."""
    env = gym.make("CartPole-v1")
    try:
        while not stop.is_set():
            episode_id = client.start_episode()
            obs, _ = env.reset()
            done = False
            while not done:
                action = client.get_action(episode_id, obs)
                obs, reward, terminated, truncated, _ = env.step(action)
                client.log_returns(episode_id, reward)
                done = terminated or truncated
            client.end_episode(episode_id, obs, truncated=truncated and not terminated)
    except Exception as exc:
        if errors is None:
            raise
        errors.append(exc)


OBS = [0.01, 0.02, 0.03, 0.04]


def _act(**fields: Any) -> dict[str, Any]:
    return {"episode_id": "ep-1", "observation": OBS, **fields}


# (method, path, token, status, error code, words of the message)
REFUSED = [
    ("GET", "/v1/info", None, 401, "unauthorized", "Bearer"),
    ("GET", "/v1/info", "wrong", 401, "unauthorized", "token"),
    ("GET", "/v2/info", TOKEN, 404, "not_found", "/v1/"),
    ("GET", "/v1/get_action", TOKEN, 405, "method_not_allowed", "POST"),
]
# (path, body, status, error code, words of the message) for episode "ep-1", started
BAD_BODIES = [
    ("/v1/get_action", b"{not json", 400, "bad_json", "not JSON"),
    ("/v1/get_action", b'{"episode_id": "ep-1", "observation": [NaN]}', 400, "bad_json", "NaN"),
    ("/v1/get_action", [1, 2], 400, "bad_request", "JSON object"),
    ("/v1/get_action", {"episode_id": "ep-1"}, 400, "bad_request", "'observation' is missing"),
    ("/v1/get_action", _act(x=1), 400, "bad_request", "unknown field 'x'"),
    ("/v1/log_returns", {"episode_id": "ep-1", "reward": "1"}, 400, "bad_request", "number"),
    ("/v1/start_episode", {"episode_id": "a b"}, 400, "bad_request", "episode_id 'a b'"),
    ("/v1/jump", {}, 404, "not_found", "commands"),
    ("/v1/get_action", _act(observation=[0.0] * 2000), 413, "too_large", "4096 bytes"),
    ("/v1/get_action", _act(episode_id="nope"), 404, "unknown_episode", "start it first"),
    ("/v1/get_action", _act(observation=[1.0, 2.0]), 422, "invalid_value", "shape (2,)"),
    ("/v1/get_action", _act(observation=["a", 1, 2, 3]), 422, "invalid_value", "numbers"),
    ("/v1/get_action", _act(observation=[[1, 2], [3]]), 422, "invalid_value", "observation"),
    ("/v1/log_returns", b'{"episode_id": "ep-1", "reward": 1e400}', 422, "invalid_value", "finite"),
    ("/v1/log_returns", {"episode_id": "ep-1", "reward": 1.0}, 409, "no_action", "get_action"),
    ("/v1/start_episode", {"episode_id": "ep-1"}, 409, "episode_exists", "exists already"),
    ("/v1/log_action", _act(action=2), 422, "invalid_value", "Discrete(2)"),
    ("/v1/log_policy_action", _act(action=1, extra={}), 422, "invalid_value", "lacks"),
]


def test_bad_requests_get_a_4xx_naming_the_problem_and_the_server_keeps_learning(tmp_path):
    config = {
        "input": lambda ioctx: PolicyServerInput(
            ioctx, "127.0.0.1", 0, token=TOKEN, max_body_bytes=4096
        ),
        "train_batch_size": 128,
        "num_sgd_iter": 1,
    }
    with served("PPO", tmp_path, **config) as trainer:
        url = _reader(trainer).url
        status, info = _http(url, "GET", "/v1/info")
        assert status == 200 and info["algorithm"] == "PPO"
        assert set(info["extra_fetches"]) >= {"vf_preds", "action_logp"}
        _, started = _http(url, "POST", "/v1/start_episode", {"episode_id": "ep-1"})
        assert started == {"episode_id": "ep-1"}
        for method, path, token, status, code, words in REFUSED:
            got, answer = _http(url, method, path, token=token)
            assert (got, answer.get("error")) == (status, code), (path, answer)
            assert words in answer["message"], (words, answer["message"])
        for path, body, status, code, words in BAD_BODIES:
            got, answer = _http(url, "POST", path, body)
            assert (got, answer.get("error")) == (status, code), (path, body, answer)
            assert words in answer["message"], (words, answer["message"])
        obs = OBS
        # calls in the wrong order after the episode ended
        ok = [
            ("get_action", {"episode_id": "ep-1", "observation": obs}),
            ("log_returns", {"episode_id": "ep-1", "reward": 1.0}),
            ("end_episode", {"episode_id": "ep-1", "observation": obs}),
        ]
        for command, body in ok:
            assert _http(url, "POST", f"/v1/{command}", body)[0] == 200, command
        for command, body in ok:
            status, answer = _http(url, "POST", f"/v1/{command}", body)
            assert (status, answer["error"]) == (409, "episode_ended"), (command, answer)
        # a batch of events stops at the first bad one, naming it
        events = [
            {"command": "start_episode", "episode_id": "ep-2"},
            {"command": "log_action", "episode_id": "ep-2", "observation": obs, "action": 0},
            {"command": "log_returns", "episode_id": "ep-3", "reward": 1.0},
        ]
        status, answer = _http(url, "POST", "/v1/events", {"events": events})
        assert (status, answer["error"], answer["event_index"]) == (404, "unknown_episode", 2)
        assert answer["message"].startswith("event 2: ")
        # a client is told what the server said
        with pytest.raises(ServingError, match="HTTP 401 unauthorized") as refused:
            PolicyClient(url, token="wrong", timeout=5)
        assert refused.value.status == 401
        # ... and it still serves and learns
        client = PolicyClient(url, token=TOKEN)
        with pytest.raises(ServingError, match="unknown episode") as unknown:
            client.get_action("nope", np.zeros(4))
        assert (unknown.value.status, unknown.value.code) == (404, "unknown_episode")
        before = trainer.get_weights()["default_policy"]
        stop = threading.Event()
        player = threading.Thread(target=_play, args=(client, stop), daemon=True)
        player.start()
        try:
            for _ in range(2):
                result = trainer.train()
        finally:
            stop.set()
            player.join(30)
        after = trainer.get_weights()["default_policy"]
        assert result["timesteps_total"] >= 256 and result["episodes_total"] > 0
        assert any(not np.array_equal(before[k], after[k]) for k in before)


def test_concurrent_clients_are_answered_together(tmp_path):
    overrides = {"train_batch_size": 128, "num_sgd_iter": 1, "rollout_fragment_length": 32}
    with served("PPO", tmp_path, **overrides) as trainer:
        url = _reader(trainer).url
        stop, errors = threading.Event(), []
        players = [
            threading.Thread(target=_play, args=(PolicyClient(url), stop, errors), daemon=True)
            for _ in range(4)
        ]
        for player in players:
            player.start()
        try:
            result = trainer.train()
        finally:
            stop.set()
            for player in players:
                player.join(30)
        assert result["timesteps_total"] >= 128 and result["episodes_this_iter"] > 0
        assert not errors and not any(player.is_alive() for player in players)


def test_a_port_in_use_is_one_clear_error(tmp_path):
    with served("PPO", tmp_path) as trainer:
        port = _reader(trainer).port
        config = SERVER.server_config("PPO", port=port)
        with pytest.raises(ServingError, match=f"cannot listen on 127.0.0.1:{port}"):
            get_trainer_class("PPO")(config=config, logdir=str(tmp_path / "second"))


# --- remote workers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ray_session():
    pytest.importorskip("ray")
    with local_ray() as ray:
        yield ray


@pytest.mark.ray
def test_remote_workers_serve_on_ports_of_their_own(ray_session, tmp_path):
    port = _free_port()
    config = {"num_workers": 1, "train_batch_size": 128, "num_sgd_iter": 1}
    trainer = get_trainer_class("PPO")(
        config=SERVER.server_config("PPO", port=port - 1, **config), logdir=str(tmp_path)
    )
    try:
        assert _reader(trainer).port is None  # the local worker samples nothing: no port
        client = PolicyClient(f"127.0.0.1:{port}", timeout=30)
        assert client.info["worker_index"] == 1
        stop = threading.Event()
        player = threading.Thread(target=_play, args=(client, stop), daemon=True)
        player.start()
        try:
            result = trainer.train()
        finally:
            stop.set()
            player.join(30)
        assert result["timesteps_total"] >= 128 and result["episodes_this_iter"] > 0
    finally:
        trainer.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
