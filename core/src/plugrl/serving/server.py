"""PolicyServerInput: a rollout worker's input that is an HTTP server for external agents.

External simulators (a game, a web application, a robot's controller) start episodes, ask
for actions or say which they took, report rewards and end episodes over HTTP
(:class:`~plugrl.serving.client.PolicyClient` speaks it; the protocol is documented in
``docs/serving.md``). The server turns what they send into the trajectories a sampler would
have collected, and the worker's ``sample()`` returns them: any algorithm learns from them.

The server is aiohttp, in a thread of its own with its own event loop; it answers from a
copy of the worker's policy (see :mod:`plugrl.serving.episodes`). Needs
``pip install 'plugrl[serve]'``.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import threading
from typing import Any

from plugrl.errors import ConfigError, PluginError, ServingError
from plugrl.jsonable import to_jsonable
from plugrl.offline.io_context import IOContext
from plugrl.offline.json_reader import InputReader
from plugrl.registry import registry
from plugrl.sample_batch import SampleBatch
from plugrl.sampling.metrics import RolloutMetrics
from plugrl.serving.episodes import ServedEpisodes
from plugrl.serving.protocol import (
    COMMANDS,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_PORT,
    EVENT_COMMANDS,
    PREFIX,
    PROTOCOL_VERSION,
    TOKEN_HEADER,
    RequestError,
    check_body,
    encode_tree,
    parse_json,
)

logger = logging.getLogger("plugrl")

SERVE_EXTRA = "pip install 'plugrl[serve]'"


def import_aiohttp_web() -> Any:
    """``aiohttp.web``, or a :class:`PluginError` naming the extra that installs it."""
    try:
        from aiohttp import web
    except ImportError:
        raise PluginError(
            f"The policy server needs aiohttp, which is not installed: {SERVE_EXTRA}."
        ) from None
    return web


class PolicyServerInput(InputReader):
    """An input reader that serves a policy over HTTP and learns from the episodes its
    clients play.

    Use it as a trainer's ``input``, with the spaces in the config instead of an env::

        config = {
            "env": None,
            "observation_space": gym.spaces.Box(-np.inf, np.inf, (4,)),
            "action_space": gym.spaces.Discrete(2),
            "input": lambda ioctx: PolicyServerInput(ioctx, "127.0.0.1", 9900 + ioctx.worker_index),
            "input_evaluation": [],
        }

    With ``num_workers: 0`` the trainer's own worker serves (on 9900 above). With
    ``num_workers: N > 0`` each remote worker ``i`` serves on its own port (9901 ... 990N
    above) and the local worker, which then samples nothing, opens none. Every
    ``next()`` (the worker's ``sample()``) waits for at least ``rollout_fragment_length`` steps
    of finished trajectories: in ``truncate_episodes`` mode an episode is cut every
    ``rollout_fragment_length`` steps (the cut bootstraps from the critic when the policy
    has one), in ``complete_episodes`` mode only whole episodes are handed over. Each
    trajectory is postprocessed here (leave ``postprocess_inputs`` False); episodes ended
    by clients count in the results' episode metrics.

    Args:
        ioctx: the worker's :class:`~plugrl.offline.io_context.IOContext` (the argument of
            the ``input`` function).
        address: the address to listen on: ``"127.0.0.1"`` (this machine only) unless you
            mean otherwise (``"0.0.0.0"``: every interface; give a ``token`` then).
        port: the port; 0 picks a free one (read :attr:`port`).
        token: a shared secret: every request must then carry
            ``Authorization: Bearer <token>`` (401 otherwise).
        max_body_bytes: the largest request body accepted (413 beyond).
        max_episodes: the most episodes open at once (429 for one more).
        max_queued_steps: the most steps waiting for the worker; beyond, the oldest are
            dropped (with a warning) rather than filling the memory.
    """

    def __init__(
        self,
        ioctx: IOContext,
        address: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        token: str | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_episodes: int = 1000,
        max_queued_steps: int = 100_000,
    ):
        worker = ioctx.worker
        if worker is None:
            raise ConfigError(
                "PolicyServerInput serves a rollout worker's policy: use it as a trainer's "
                "input, input: lambda ioctx: PolicyServerInput(ioctx, address, port)."
            )
        if ioctx.config.get("postprocess_inputs"):
            raise ConfigError(
                "PolicyServerInput postprocesses each trajectory itself (it knows where "
                "episodes end and bootstraps those it cuts): set postprocess_inputs to False."
            )
        if token is not None and not (isinstance(token, str) and token):
            raise ConfigError("PolicyServerInput: token must be a non-empty string or None.")
        self.worker_index = ioctx.worker_index
        self.token = token
        self.max_body_bytes = int(max_body_bytes)
        self.address = address
        self.port: int | None = None
        self.num_requests = 0  # answered, refused ones included
        self._waiting: list[tuple[Any, Any]] = []  # get_action requests to act for together
        self.episodes: ServedEpisodes | None = None
        self._server: _HttpServer | None = None
        if worker.num_workers > 0 and ioctx.worker_index == 0:
            logger.info(
                "PolicyServerInput: the local worker samples nothing with %d remote workers; "
                "it opens no port (the remote workers serve).",
                worker.num_workers,
            )
            return
        web = import_aiohttp_web()
        if token is None and not _is_loopback(address):
            logger.warning(
                "PolicyServerInput listens on %s without a token: anyone who can reach the port "
                "can play episodes and shape what the policy learns; give token=...",
                address,
            )
        self.episodes = ServedEpisodes(worker, max_episodes, max_queued_steps)
        self._info = self._describe(worker)
        self._server = _HttpServer(self._app(web), address, port)
        self.port = self._server.port
        logger.info("Policy server of worker %d listening on %s", ioctx.worker_index, self.url)

    @property
    def url(self) -> str:
        """``http://address:port`` (None when this worker serves nothing)."""
        if self.port is None:
            return None  # type: ignore[return-value]
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.port}"

    # --- InputReader ------------------------------------------------------------------------

    def next(self) -> SampleBatch:
        """The next postprocessed batch of the clients' trajectories (waits for them)."""
        if self.episodes is None:
            raise ServingError(
                "The local worker of a worker set with remote workers serves no clients and "
                "samples nothing; the remote workers' servers are the ones to use."
            )
        min_steps = self.episodes.fragment
        return self.episodes.next_batch(min_steps, self.url)

    def get_metrics(self) -> list[RolloutMetrics]:
        return [] if self.episodes is None else self.episodes.get_metrics()

    def close(self) -> None:
        """Stop serving: the port is released, a worker waiting in :meth:`next` gets a
        :class:`ServingError`."""
        if self.episodes is not None:
            self.episodes.close()
        if self._server is not None:
            self._server.close()
            self._server = None

    # --- HTTP -------------------------------------------------------------------------------

    def _describe(self, worker: Any) -> dict[str, Any]:
        """What ``GET /v1/info`` answers: enough for a client to build the same policy."""
        episodes = self.episodes
        assert episodes is not None
        policy_class = type(worker.policy)
        algorithm, framework = _registered_policy(policy_class)
        config = to_jsonable(worker.config)
        return {
            "protocol": PROTOCOL_VERSION,
            "worker_index": self.worker_index,
            "policy_class": policy_class.__name__,
            "algorithm": algorithm,
            "framework": framework,
            "observation_space": to_jsonable(episodes.observation_space),
            "action_space": to_jsonable(episodes.action_space),
            "config": config,
            "extra_fetches": {
                name: {"dtype": dtype.str, "shape": list(shape)}
                for name, (dtype, shape) in episodes.extra_specs.items()
            },
            "batch_mode": worker.config["batch_mode"],
            "rollout_fragment_length": worker.config["rollout_fragment_length"],
            "max_body_bytes": self.max_body_bytes,
            "max_episodes": episodes.max_episodes,
        }

    def _app(self, web: Any) -> Any:
        app = web.Application(
            client_max_size=self.max_body_bytes, middlewares=[self._middleware(web)]
        )
        app.router.add_get(f"{PREFIX}/info", self._get_info)
        app.router.add_get(f"{PREFIX}/weights", self._get_weights)
        app.router.add_post(f"{PREFIX}/events", self._post_events)
        app.router.add_post(PREFIX + "/{command}", self._post_command)
        return app

    def _middleware(self, web: Any) -> Any:
        expected = f"Bearer {self.token}".encode() if self.token else None
        max_bytes = self.max_body_bytes

        @web.middleware
        async def middleware(request: Any, handler: Any) -> Any:
            self.num_requests += 1
            try:
                if expected is not None:
                    given = request.headers.get(TOKEN_HEADER, "").encode()
                    if not hmac.compare_digest(given, expected):
                        raise RequestError(
                            401,
                            "unauthorized",
                            "This server needs a token: send the header "
                            "'Authorization: Bearer <token>' with the server's token.",
                        )
                if request.content_length is not None and request.content_length > max_bytes:
                    raise _too_large(max_bytes)
                return await handler(request)
            except RequestError as error:
                return web.json_response(error.body(), status=error.status)
            except web.HTTPRequestEntityTooLarge:
                error = _too_large(max_bytes)
                return web.json_response(error.body(), status=error.status)
            except web.HTTPException as exc:
                if exc.status < 400:
                    raise
                code, message = _HTTP_ERRORS.get(exc.status, ("http_error", exc.reason))
                if exc.status == 404:
                    message = f"No endpoint {request.method} {request.path}. {message}"
                body = {"error": code, "message": message}
                return web.json_response(body, status=exc.status)
            except Exception as exc:  # a bug: the server answers and keeps serving
                logger.exception("Policy server: %s %s failed", request.method, request.path)
                body = {"error": "server_error", "message": f"{type(exc).__name__}: {exc}"}
                return web.json_response(body, status=500)

        return middleware

    async def _body(self, request: Any) -> Any:
        return parse_json(await request.read())

    async def _get_info(self, request: Any) -> Any:
        return _json(self._info)

    async def _get_weights(self, request: Any) -> Any:
        assert self.episodes is not None
        return _json(encode_tree(self.episodes.weights()))

    async def _post_command(self, request: Any) -> Any:
        command = request.match_info["command"]
        if command not in COMMANDS:
            raise RequestError(
                404,
                "not_found",
                f"No endpoint POST {request.path}; commands: {', '.join(COMMANDS)} and events.",
            )
        body = check_body(command, await self._body(request))
        assert self.episodes is not None
        if command == "get_action":
            return _json({"action": await self._action(body)})
        return _json(self.episodes.apply(command, body))

    async def _action(self, body: dict[str, Any]) -> Any:
        """A get_action answered together with those that arrived at the same time: their
        observations go through the policy as one batch (see ``ServedEpisodes.act``)."""
        assert self.episodes is not None
        prepared = self.episodes.prepare_action(body["episode_id"], body["observation"])
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((prepared, future))
        if len(self._waiting) == 1:  # after the handlers that are ready now have run
            asyncio.get_running_loop().call_soon(self._act)
        return await future

    def _act(self) -> None:
        waiting, self._waiting = self._waiting, []
        assert self.episodes is not None
        try:
            actions = self.episodes.act([prepared for prepared, _ in waiting])
        except Exception as exc:  # each request answers 500 (the middleware logs it)
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), action in zip(waiting, actions, strict=True):
            if not future.done():  # not cancelled: its client still waits
                future.set_result(action)

    async def _post_events(self, request: Any) -> Any:
        """Many commands in order (a local-inference client's batch): applied one by one up
        to the first refused, whose error names its index (``event_index``)."""
        body = await self._body(request)
        if (
            not isinstance(body, dict)
            or set(body) != {"events"}
            or not isinstance(body["events"], list)
        ):
            raise RequestError(
                400, "bad_request", 'events: the body must be {"events": [event, ...]}.'
            )
        assert self.episodes is not None
        for index, event in enumerate(body["events"]):
            try:
                if not isinstance(event, dict) or event.get("command") not in EVENT_COMMANDS:
                    raise RequestError(
                        400,
                        "bad_request",
                        f"an event must be an object whose command is one of "
                        f"{', '.join(EVENT_COMMANDS)}.",
                    )
                fields = {k: v for k, v in event.items() if k != "command"}
                command = event["command"]
                self.episodes.apply(command, check_body(command, fields))
            except RequestError as error:
                error.message = f"event {index}: {error.message}"
                return _json({**error.body(), "event_index": index}, error.status)
        return _json({"applied": len(body["events"])})


def _json(data: Any, status: int = 200) -> Any:
    from aiohttp import web  # imported already: the server runs

    return web.Response(
        body=json.dumps(data, allow_nan=False).encode(),
        status=status,
        content_type="application/json",
    )


def _too_large(max_bytes: int) -> RequestError:
    return RequestError(
        413,
        "too_large",
        f"The body is larger than {max_bytes} bytes, this server's max_body_bytes; send less "
        "at once.",
    )


_HTTP_ERRORS = {
    400: ("bad_request", "The request is not valid HTTP."),
    404: ("not_found", f"The endpoints are under {PREFIX}/ (see docs/serving.md)."),
    405: ("method_not_allowed", "Use GET for info and weights, POST for everything else."),
}


def _registered_policy(policy_class: type) -> tuple[str | None, str | None]:
    """The ``(algorithm, framework)`` a policy class (or the nearest class it derives from)
    is registered under; ``(None, None)`` when none is (a client then cannot build it)."""
    policies = registry("policies")
    names = policies.names()
    for klass in policy_class.__mro__:
        path = f"{klass.__module__}:{klass.__qualname__}"
        for name in names:
            entry = policies.get(name)
            if entry is klass or entry == path:
                algorithm, framework = name
                return algorithm, framework
    return None, None


def _is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class _HttpServer:
    """An aiohttp application served from a daemon thread running its own event loop."""

    def __init__(self, app: Any, address: str, port: int):
        web = import_aiohttp_web()
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        try:
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, address, port)
            self._loop.run_until_complete(site.start())
        except OSError as exc:
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()
            raise ServingError(
                f"The policy server cannot listen on {address}:{port}: "
                f"{exc.strerror or exc}. Is another server there? Choose another port "
                "(e.g. a base port + ioctx.worker_index), or 0 for a free one."
            ) from None
        self.port = int(self._runner.addresses[0][1])
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"plugrl-policy-server-{self.port}", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()
