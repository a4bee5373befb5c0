"""PolicyClient: what an external simulator calls to play episodes against a policy server.

In ``"remote"`` inference mode every call is one HTTP request: the server acts. In
``"local"`` mode the client builds the server's policy itself (the algorithm and framework
the server names must be installed here), acts without a round trip, and sends what
happened in batches (``POST /v1/events``); every ``update_interval`` seconds it fetches the
server's latest weights (and observation filter). Nothing the server sends is unpickled or
imported: the policy is built from registered names, the weights are arrays of numbers.
The client needs only the standard library's ``http.client`` (and, for local inference, the
server's algorithm and framework plugins).
"""

from __future__ import annotations

import http.client
import json
import select
import time
import urllib.parse
import uuid
from collections import OrderedDict
from typing import Any

from plugrl.checkpoint.config import CODE_KEYS, drop_code
from plugrl.env.filters import make_filter
from plugrl.env.spaces import space_from_json
from plugrl.errors import ConfigError, ServingError
from plugrl.models.catalog import ModelCatalog
from plugrl.registry import get_policy_class
from plugrl.sampling.rollout_worker import build_policy, env_actions
from plugrl.serving.protocol import (
    EPISODE_ID,
    PREFIX,
    PROTOCOL_VERSION,
    TOKEN_HEADER,
    RequestError,
    action_from_json,
    decode_tree,
    observation_from_json,
    to_json,
)
from plugrl.worker_context import WorkerContext

INFERENCE_MODES = ("remote", "local")
_ENDED_REMEMBERED = 10_000


class PolicyClient:
    """Plays episodes against a :class:`~plugrl.serving.server.PolicyServerInput`.

    Args:
        address: the server, ``"http://127.0.0.1:9900"`` (``"127.0.0.1:9900"`` means http).
        inference_mode: ``"remote"`` (the server computes every action) or ``"local"`` (a
            copy of the policy here does, refreshed from the server).
        update_interval: local mode: seconds between weight refreshes (checked when an action
            is asked for); None refreshes only when :meth:`update_policy_weights` is called.
        token: the server's shared token, if it has one.
        timeout: seconds a request may take; the client also waits this long for a server
            that is not listening yet when it starts.

    Every call raises a :class:`~plugrl.errors.ServingError` naming the problem when the
    server refuses it (its ``status`` and ``code`` say how, see ``docs/serving.md``) or
    cannot be reached.
    """

    def __init__(
        self,
        address: str,
        inference_mode: str = "remote",
        update_interval: float | None = 10.0,
        *,
        token: str | None = None,
        timeout: float = 60.0,
    ):
        if inference_mode not in INFERENCE_MODES:
            raise ConfigError(
                f"PolicyClient: inference_mode must be 'remote' or 'local', got {inference_mode!r}."
            )
        self.address = (address if "://" in address else f"http://{address}").rstrip("/")
        self.inference_mode = inference_mode
        self.update_interval = update_interval
        self.timeout = timeout
        self._connection = _Connection(self.address, timeout)
        self._headers = {"Content-Type": "application/json"}
        if token:
            self._headers[TOKEN_HEADER] = f"Bearer {token}"
        self.info = self._first_contact()
        self.observation_space = space_from_json(
            self.info["observation_space"], "observation_space"
        )
        self.action_space = space_from_json(self.info["action_space"], "action_space")
        self.local = inference_mode == "local"
        if self.local:
            self._start_local()

    # --- the API ----------------------------------------------------------------------------

    def start_episode(self, episode_id: str | None = None, training_enabled: bool = True) -> str:
        """Start an episode; returns its id (``episode_id``, or a new one). With
        ``training_enabled`` False its steps are acted but not learned from."""
        if not self.local:
            body = {"episode_id": episode_id, "training_enabled": bool(training_enabled)}
            return self._post("start_episode", body)["episode_id"]
        episode_id = uuid.uuid4().hex if episode_id is None else episode_id
        if not isinstance(episode_id, str) or not EPISODE_ID.fullmatch(episode_id):
            raise ServingError(
                f"start_episode: episode_id {episode_id!r} must be 1 to 128 letters, digits "
                "or '_.:-'.",
                400,
                "bad_request",
            )
        if episode_id in self._open or episode_id in self._ended:
            raise ServingError(
                f"start_episode: episode {episode_id!r} exists already.", 409, "episode_exists"
            )
        self._open[episode_id] = False
        self._queue(
            {
                "command": "start_episode",
                "episode_id": episode_id,
                "training_enabled": bool(training_enabled),
            }
        )
        return episode_id

    def get_action(self, episode_id: str, observation: Any) -> Any:
        """The action to take for ``observation`` (the env's raw observation), in the env's
        units (an int for Discrete, a numpy array for Box)."""
        obs = to_json(observation)
        if not self.local:
            answer = self._post("get_action", {"episode_id": episode_id, "observation": obs})
            return self._action_value(answer["action"])
        self._check_open(episode_id, "get_action")
        self._maybe_update()
        filtered = self._observation(obs)
        actions, _, extra = self.policy.compute_actions(filtered[None])
        self._open[episode_id] = True
        self._queue(
            {
                "command": "log_policy_action",
                "episode_id": episode_id,
                "observation": obs,
                "action": to_json(actions[0]),
                "extra": {name: to_json(value[0]) for name, value in extra.items()},
            },
            step=True,
        )
        return env_actions(actions, self.action_space, self.policy.config)[0]

    def log_action(self, episode_id: str, observation: Any, action: Any) -> None:
        """Record that ``action`` (in the env's units, chosen by you) was taken for
        ``observation``: it is learned from with the policy's likelihood of it."""
        body = {"episode_id": episode_id, "observation": to_json(observation)}
        body["action"] = to_json(action)
        if not self.local:
            self._post("log_action", body)
            return
        self._check_open(episode_id, "log_action")
        self._observation(body["observation"])  # checked here, not only at the next flush
        self._checked(lambda: action_from_json(self.action_space, body["action"]))
        self._open[episode_id] = True
        self._queue({"command": "log_action", **body}, step=True)

    def log_returns(self, episode_id: str, reward: float, info: dict | None = None) -> None:
        """Add ``reward`` to the last action's reward (call it once or more per step);
        ``info`` (a JSON object) replaces the step's info."""
        body: dict[str, Any] = {"episode_id": episode_id, "reward": to_json(reward)}
        if info is not None:
            body["info"] = to_json(info)
        if not self.local:
            self._post("log_returns", body)
            return
        if self._check_open(episode_id, "log_returns") is False:
            raise ServingError(
                f"log_returns: episode {episode_id!r} has no action yet for the reward to "
                "follow; call get_action or log_action first.",
                409,
                "no_action",
            )
        self._queue({"command": "log_returns", **body})

    def end_episode(self, episode_id: str, observation: Any, truncated: bool = False) -> None:
        """End the episode with its last observation: terminated, or cut short with
        ``truncated`` (e.g. a time limit: learning then bootstraps from its value)."""
        body = {
            "episode_id": episode_id,
            "observation": to_json(observation),
            "truncated": bool(truncated),
        }
        if not self.local:
            self._post("end_episode", body)
            return
        self._check_open(episode_id, "end_episode")
        self._observation(body["observation"])
        del self._open[episode_id]
        self._ended[episode_id] = None
        if len(self._ended) > _ENDED_REMEMBERED:
            self._ended.popitem(last=False)
        self._queue({"command": "end_episode", **body})
        self.flush()

    def update_policy_weights(self) -> None:
        """Local mode: send what is buffered, then take the server's current weights, timestep
        and observation filter."""
        if not self.local:
            return
        self.flush()
        state = decode_tree(self._request("GET", "weights"))
        self.policy.set_weights(state["weights"])
        self.policy.on_global_var_update({"timestep": state["global_timestep"]})
        filter_state = state["filter"]
        self._filter = make_filter(filter_state["type"], self._preprocessor.observation_space.shape)
        self._filter.set_state(filter_state)
        self.weights_version = state["version"]
        self._last_update = time.monotonic()

    def flush(self) -> None:
        """Local mode: send the buffered events now (also done at every episode end, when a
        fragment's worth of steps is buffered, and before each weight refresh)."""
        if not self.local or not self._events:
            return
        events, self._events, self._buffered_bytes, self._buffered_steps = self._events, [], 0, 0
        self._post("events", {"events": events})

    def close(self) -> None:
        """Send what is buffered and close the connection."""
        try:
            self.flush()
        finally:
            self._connection.close()

    def __enter__(self) -> PolicyClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- local inference --------------------------------------------------------------------

    def _start_local(self) -> None:
        info = self.info
        if info.get("algorithm") is None:
            raise ServingError(
                f"The server's policy {info.get('policy_class')} is not registered under an "
                "algorithm name, and a client builds policies only from registered names: use "
                "inference_mode='remote'."
            )
        policy_class = get_policy_class([info["algorithm"]], info["framework"])
        config = client_policy_config(info["config"])
        self._preprocessor = ModelCatalog.get_preprocessor_for_space(
            self.observation_space, config.get("model")
        )
        self.policy = build_policy(
            policy_class,
            self._preprocessor.observation_space,
            self.action_space,
            config,
            WorkerContext(),
        )
        self._open: dict[str, bool] = {}  # episode id -> whether an action was taken
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._events: list[dict[str, Any]] = []
        self._buffered_bytes = 0
        self._buffered_steps = 0
        self._flush_steps = max(1, int(info["rollout_fragment_length"]))
        self._max_bytes = int(info["max_body_bytes"]) * 3 // 4
        self.update_policy_weights()

    def _maybe_update(self) -> None:
        interval = self.update_interval
        if interval is not None and time.monotonic() - self._last_update >= interval:
            self.update_policy_weights()

    def _observation(self, obs: Any) -> Any:
        """A JSON observation checked against the space, as the local policy sees it."""
        value = self._checked(lambda: observation_from_json(self.observation_space, obs))
        return self._filter(self._preprocessor.transform(value), update=False)

    def _check_open(self, episode_id: str, command: str) -> bool:
        """Whether the open episode has an action yet; a ServingError when it is not open."""
        acted = self._open.get(episode_id)
        if acted is not None:
            return acted
        if episode_id in self._ended:
            raise ServingError(
                f"{command}: episode {episode_id!r} has ended; start a new one (start_episode).",
                409,
                "episode_ended",
            )
        raise ServingError(
            f"{command}: unknown episode {episode_id!r}; start it first (start_episode).",
            404,
            "unknown_episode",
        )

    def _queue(self, event: dict[str, Any], step: bool = False) -> None:
        size = len(_dumps(event)) + 1
        if self._events and self._buffered_bytes + size > self._max_bytes:
            self.flush()
        self._events.append(event)
        self._buffered_bytes += size
        self._buffered_steps += step
        if self._buffered_steps >= self._flush_steps:
            self.flush()

    @staticmethod
    def _checked(fn: Any) -> Any:
        try:
            return fn()
        except RequestError as error:
            raise ServingError(error.message, error.status, error.code) from None

    # --- HTTP -------------------------------------------------------------------------------

    def _action_value(self, action: Any) -> Any:
        return self._checked(lambda: action_from_json(self.action_space, action))

    def _first_contact(self) -> dict[str, Any]:
        """``GET /v1/info``, waiting up to ``timeout`` for a server that is not listening yet."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                info = self._request("GET", "info")
                break
            except _Unreachable as exc:
                if time.monotonic() >= deadline:
                    raise ServingError(
                        f"No policy server answers at {self.address} ({exc.reason}) after "
                        f"{self.timeout:.0f} s: start it first, or check the address."
                    ) from None
                time.sleep(0.2)
        if info.get("protocol") != PROTOCOL_VERSION:
            raise ServingError(
                f"The server at {self.address} speaks protocol {info.get('protocol')!r}, this "
                f"client {PROTOCOL_VERSION}: install the same plugrl version on both sides."
            )
        return info

    def _post(self, command: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._request("POST", command, body)
        except _Unreachable as exc:
            raise ServingError(
                f"{command}: the policy server at {self.address} cannot be reached ({exc.reason})."
            ) from None

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        try:
            data = None if body is None else _dumps(body).encode()
        except ValueError:
            raise ServingError(
                f"{path}: the request holds a value that is not a finite number (JSON has no "
                "NaN or Infinity).",
                400,
                "bad_json",
            ) from None
        try:
            status, raw = self._connection.request(method, f"{PREFIX}/{path}", data, self._headers)
        except TimeoutError:
            raise ServingError(
                f"{path}: the policy server at {self.address} did not answer within "
                f"{self.timeout:.0f} s."
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            raise _Unreachable(f"{type(exc).__name__}: {exc}") from None
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if status >= 400:
            if isinstance(answer, dict) and "message" in answer:
                message, code = str(answer["message"]), str(answer.get("error"))
            else:
                message, code = raw[:200].decode(errors="replace"), "http_error"
            raise ServingError(
                f"The policy server refused {path} (HTTP {status} {code}): {message}",
                status,
                code,
            )
        if not isinstance(answer, dict):
            raise ServingError(f"{path}: the server's answer is not a JSON object.")
        return answer


class _Connection:
    """One kept-alive HTTP connection (the standard library's ``http.client``), opened anew
    when the server has closed it while it was idle."""

    def __init__(self, address: str, timeout: float):
        parts = urllib.parse.urlsplit(address)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"PolicyClient: the address must be http://host:port (or https://), got "
                f"{address!r}."
            )
        https = parts.scheme == "https"
        self._factory = http.client.HTTPSConnection if https else http.client.HTTPConnection
        self._host, self._port = parts.hostname, parts.port
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        conn = self._conn
        if conn is not None and _closed_by_peer(conn):
            self.close()
            conn = None
        if conn is None:
            conn = self._conn = self._factory(self._host, self._port, timeout=self._timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except BaseException:
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, data

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _closed_by_peer(conn: http.client.HTTPConnection) -> bool:
    """Whether the server closed an idle kept-alive connection: between requests a socket
    has nothing to read unless its other end is gone."""
    sock = conn.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class _Unreachable(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def client_policy_config(config: dict[str, Any]) -> dict[str, Any]:
    """A server's config (as JSON) made safe to build a policy from here: every key that
    names code is dropped (the policy's defaults apply), as for a checkpoint's config
    (:func:`~plugrl.checkpoint.config.drop_code`), except what a policy cannot do without
    (the exploration type, a custom model or action distribution): those must name something
    registered in this process. No env, no GPU."""
    config = json.loads(json.dumps(config))  # plain JSON values only
    config["env"] = None  # the policy needs the spaces, not the server's env
    for path, code_key, value in drop_code(config):
        if CODE_KEYS[code_key] is not None:
            raise ServingError(
                f"The server's policy uses {'.'.join(path)} = {value!r}, which is not "
                "registered in this process; a client never imports code it is sent: register "
                "it here under that name (a plugin, ModelCatalog.register_custom_model, ...), "
                "or use inference_mode='remote'."
            )
    config["evaluation_config"] = {}
    config["num_gpus"] = 0
    return config
