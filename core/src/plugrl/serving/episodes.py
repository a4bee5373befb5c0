"""What a policy server does with its clients' calls, without the HTTP: the episodes they
act in and log, cut into trajectories, handed to the rollout worker as postprocessed batches.

Two threads meet here. The server's thread answers clients: it acts with a copy of the
worker's policy and observation filter (:attr:`ServedEpisodes.policy`), never with the
worker's own, which the trainer's thread updates. The trainer's thread calls
:meth:`ServedEpisodes.next_batch` from ``worker.sample()``: that first brings the copy up to
the worker's weights, timestep and filter (the copy acts, like the sampler, with the weights
of the last update), then waits for enough steps, then postprocesses the trajectories with
the worker's policy. One lock guards the copy, the open episodes and the queue.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import OrderedDict, defaultdict, deque
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.env.filters import NoFilter
from plugrl.errors import ServingError
from plugrl.sample_batch import DEFAULT_POLICY_ID, SampleBatch
from plugrl.sampling.metrics import RolloutMetrics
from plugrl.sampling.rollout_worker import build_policy, env_actions
from plugrl.serving.protocol import (
    RequestError,
    action_from_json,
    finite_number,
    observation_from_json,
    to_json,
)

logger = logging.getLogger("plugrl")

_RAW_OBS = "_raw_obs"  # observations before the filter: the worker's filter learns from them
_WAIT_LOG_S = 30.0  # how often a worker waiting for experiences says so (logging INFO)
_ENDED_REMEMBERED = 10_000  # ended episode ids kept, to tell "ended" from "unknown"


class _Episode:
    """One open episode: completed steps not yet queued, and the step whose action was taken
    and whose next observation has not come yet."""

    def __init__(self, eps_id: int, training: bool):
        self.eps_id = eps_id
        self.training = training
        self.rows: dict[str, list] = defaultdict(list)
        self.pending: dict[str, Any] | None = None
        self.reward = 0.0  # rewards logged since the pending step's action
        self.info: dict[str, Any] = {}
        self.length = 0
        self.total_reward = 0.0
        self.prev_action: Any = None
        self.prev_reward = 0.0
        self.acting = False  # a get_action is between prepare_action and act


class ServedEpisodes:
    """The episodes of a policy server's clients, for one rollout worker.

    Args:
        worker: the :class:`~plugrl.sampling.rollout_worker.RolloutWorker` whose policy
            learns from them (its config, spaces, preprocessor and filter are used).
        max_episodes: open episodes at most; one more ``start_episode`` is refused (429).
        max_queued_steps: steps waiting for the worker at most; beyond, the oldest
            trajectories are dropped (counted in :attr:`num_dropped_steps`, with a warning).
            An open episode holds a tenth of that at most: in ``complete_episodes`` mode a
            longer one is cut (queued, bootstrapped) so clients cannot grow memory unbounded.
    """

    def __init__(self, worker: Any, max_episodes: int = 1000, max_queued_steps: int = 100_000):
        self.worker = worker
        self.config = worker.config
        self.observation_space: gym.Space = worker.preprocessor.original_space
        self.action_space: gym.Space = worker.action_space
        self.max_episodes = max_episodes
        self.max_queued_steps = max_queued_steps
        self.max_open_steps = max(1, max_queued_steps // 10)
        self.fragment = self.config["rollout_fragment_length"]
        self.truncate = self.config["batch_mode"] == "truncate_episodes"
        self._preprocessor = worker.preprocessor
        self._worker_filter = worker.filters[DEFAULT_POLICY_ID]
        self._keep_raw = not isinstance(self._worker_filter, NoFilter)
        self._lock = threading.RLock()
        self._ready = threading.Condition(self._lock)
        original = worker.policy
        # the copy the server acts with (see the module docstring)
        self.policy = build_policy(
            type(original),
            original.observation_space,
            original.action_space,
            self.config,
            worker.context,
        )
        self.filter = self._worker_filter.copy()
        self.weights_version = 0
        self._open: dict[str, _Episode] = {}
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._queue: deque[SampleBatch] = deque()
        self._queued_steps = 0
        self._metrics: list[RolloutMetrics] = []
        self._unroll_ids = 0
        self._closed = False
        self.num_dropped_steps = 0
        self.extra_specs, self._action_dtype, self._action_shape = self._probe()
        self.sync()

    def _probe(self) -> tuple[dict[str, tuple[np.dtype, tuple]], np.dtype, tuple]:
        """The extra outputs the policy gives with each action (names, dtypes, shapes per
        row), and its actions' dtype and shape: every step's row holds the same columns."""
        obs = self._preprocessor.transform(self.observation_space.sample())
        actions, _, extra = self.policy.compute_actions(self.filter(obs, update=False)[None])
        actions = np.asarray(actions)
        specs = {k: (np.asarray(v).dtype, np.asarray(v).shape[1:]) for k, v in extra.items()}
        return specs, actions.dtype, actions.shape[1:]

    # --- the trainer's side -----------------------------------------------------------------

    def sync(self) -> None:
        """Bring the acting copy to the worker's policy weights, timestep and filter."""
        worker = self.worker
        with self._lock:
            self.policy.set_weights(worker.policy.get_weights())
            self.policy.on_global_var_update({"timestep": worker.policy.global_timestep})
            self.filter = self._worker_filter.copy()
            self.weights_version += 1

    def next_batch(self, min_steps: int, address: str = "") -> SampleBatch:
        """Wait until at least ``min_steps`` steps of finished trajectories are queued, then
        return them (the oldest first, whole trajectories, ``min_steps`` or a little more),
        postprocessed by the worker's policy. Runs on the worker's (trainer's) thread."""
        self.sync()
        taken: list[SampleBatch] = []
        with self._ready:
            waited = time.monotonic()
            while self._queued_steps < min_steps and not self._closed:
                if not self._ready.wait(timeout=_WAIT_LOG_S) and logger.isEnabledFor(logging.INFO):
                    logger.info(
                        "Policy server %s: waiting for experiences for %.0f s (%d of %d steps "
                        "queued, %d episodes open).",
                        address,
                        time.monotonic() - waited,
                        self._queued_steps,
                        min_steps,
                        len(self._open),
                    )
            if self._closed:
                raise ServingError(
                    f"The policy server {address} was closed while the worker waited."
                )
            count = 0
            while count < min_steps:
                trajectory = self._queue.popleft()
                self._queued_steps -= trajectory.count
                count += trajectory.count
                taken.append(trajectory)
        return SampleBatch.concat_samples([self._postprocess(t) for t in taken])

    def _postprocess(self, trajectory: SampleBatch) -> SampleBatch:
        """One trajectory as the sampler would hand it over: the filter's statistics updated
        with its observations, the bookkeeping columns added, the policy's postprocessing
        run (which bootstraps a trajectory that did not terminate from its last new_obs)."""
        raw = trajectory.pop(_RAW_OBS, None)
        if raw is not None:
            self._worker_filter(raw, update=True)
        trajectory[SampleBatch.AGENT_INDEX] = np.zeros(trajectory.count, dtype=np.int64)
        trajectory[SampleBatch.UNROLL_ID] = np.full(trajectory.count, self._unroll_ids)
        self._unroll_ids += 1
        trajectory[SampleBatch.DONES] = (
            trajectory[SampleBatch.TERMINATEDS] | trajectory[SampleBatch.TRUNCATEDS]
        )
        return self.worker.policy.postprocess_trajectory(trajectory)

    def weights(self) -> dict[str, Any]:
        """What a local-inference client takes (``GET /v1/weights``): the acting copy's
        weights and timestep, the observation filter's state, and the version of the
        weights (one more at each :meth:`sync`)."""
        with self._lock:
            return {
                "version": self.weights_version,
                "global_timestep": int(self.policy.global_timestep),
                "weights": self.policy.get_weights(),
                "filter": self.filter.get_state(),
            }

    def get_metrics(self) -> list[RolloutMetrics]:
        """Episodes ended since the last call."""
        with self._lock:
            out, self._metrics = self._metrics, []
        return out

    def close(self) -> None:
        """Wake a worker waiting in :meth:`next_batch` (it raises a :class:`ServingError`)."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "open_episodes": len(self._open),
                "queued_steps": self._queued_steps,
                "dropped_steps": self.num_dropped_steps,
            }

    # --- the clients' side ------------------------------------------------------------------

    def apply(self, command: str, body: dict[str, Any]) -> dict[str, Any]:
        """Run one checked request body (see :mod:`plugrl.serving.protocol`); the answer."""
        with self._lock:
            if command == "start_episode":
                episode_id = self.start_episode(
                    body.get("episode_id"), body.get("training_enabled", True)
                )
                return {"episode_id": episode_id}
            if command == "get_action":
                return {"action": self.get_action(body["episode_id"], body["observation"])}
            if command == "log_action":
                self.log_action(body["episode_id"], body["observation"], body["action"])
            elif command == "log_policy_action":
                self.log_policy_action(
                    body["episode_id"], body["observation"], body["action"], body["extra"]
                )
            elif command == "log_returns":
                self.log_returns(body["episode_id"], body["reward"], body.get("info"))
            elif command == "end_episode":
                self.end_episode(
                    body["episode_id"], body["observation"], body.get("truncated", False)
                )
            else:  # the server routes only known commands here
                raise RequestError(404, "not_found", f"Unknown command {command!r}.")
            return {}

    def start_episode(self, episode_id: str | None = None, training_enabled: bool = True) -> str:
        with self._lock:
            if episode_id is None:
                episode_id = uuid.uuid4().hex
            if episode_id in self._open or episode_id in self._ended:
                state = "open" if episode_id in self._open else "ended"
                raise RequestError(
                    409,
                    "episode_exists",
                    f"start_episode: episode {episode_id!r} exists already ({state}); give a new "
                    "episode_id, or none to get one.",
                )
            if len(self._open) >= self.max_episodes:
                raise RequestError(
                    429,
                    "too_many_episodes",
                    f"start_episode: {len(self._open)} episodes are open, the most this server "
                    "keeps; end some first (end_episode).",
                )
            self._open[episode_id] = _Episode(random.getrandbits(62), bool(training_enabled))
            return episode_id

    def get_action(self, episode_id: str, observation: Any) -> Any:
        """The action for ``observation`` (JSON, in the env's units)."""
        return self.act([self.prepare_action(episode_id, observation)])[0]

    def prepare_action(self, episode_id: str, observation: Any) -> tuple[_Episode, Any, Any]:
        """The first half of :meth:`get_action`: the request checked, the episode's last step
        completed with this observation, the episode waiting for its action (any other call
        for it is refused until :meth:`act`). The server gathers the requests that arrive
        together and acts for all of them in one call of the policy."""
        with self._lock:
            episode = self._episode(episode_id, "get_action")
            obs, raw = self._observation(observation)
            self._complete(episode, obs, raw, terminated=False, truncated=False)
            episode.acting = True
            return episode, obs, raw

    def act(self, prepared: list[tuple[_Episode, Any, Any]]) -> list[Any]:
        """The second half of :meth:`get_action`, for several episodes at once: one call of
        the policy, each episode's step begun, the actions as JSON in the env's units."""
        with self._lock:
            try:
                obs = np.stack([p[1] for p in prepared])
                actions, _, extra = self.policy.compute_actions(obs)
                actions = np.asarray(actions)
                env = env_actions(actions, self.action_space, self.config)
                for i, (episode, row_obs, raw) in enumerate(prepared):
                    row = {k: v[i] for k, v in extra.items()}
                    self._begin(episode, row_obs, raw, actions[i], row)
                return [to_json(env[i]) for i in range(len(prepared))]
            finally:
                for episode, _, _ in prepared:
                    episode.acting = False

    def log_action(self, episode_id: str, observation: Any, action: Any) -> None:
        """The client took ``action`` itself (in the env's units): the policy's extra outputs
        are computed here, with the likelihood of that action as the policy explores."""
        with self._lock:
            episode = self._episode(episode_id, "log_action")
            obs, raw = self._observation(observation)
            policy_action = self._policy_action(action_from_json(self.action_space, action))
            self._complete(episode, obs, raw, terminated=False, truncated=False)
            _, _, extra = self.policy.compute_actions(obs[None])
            row = {k: v[0] for k, v in extra.items()}
            if SampleBatch.ACTION_LOGP in row:
                try:
                    logp = self.policy.compute_log_likelihoods(policy_action[None], obs[None])
                except NotImplementedError:
                    raise RequestError(
                        422,
                        "invalid_value",
                        f"log_action: {type(self.policy).__name__} cannot compute the "
                        "likelihood of a logged action; use get_action.",
                    ) from None
                logp = np.asarray(logp, dtype=np.float32).reshape(-1)[0]
                row[SampleBatch.ACTION_LOGP] = logp
                if SampleBatch.ACTION_PROB in row:
                    row[SampleBatch.ACTION_PROB] = np.exp(logp)
            self._begin(episode, obs, raw, policy_action, row)

    def log_policy_action(
        self, episode_id: str, observation: Any, action: Any, extra: dict[str, Any]
    ) -> None:
        """A step acted by the client's own copy of the policy (local inference): ``action``
        as the policy output it (before rescaling and clipping to the env), with every extra
        output the policy gives (see :attr:`extra_specs`)."""
        with self._lock:
            episode = self._episode(episode_id, "log_policy_action")
            obs, raw = self._observation(observation)
            policy_action = action_from_json(self.action_space, action, "policy action")
            policy_action = np.asarray(policy_action, dtype=self._action_dtype)
            row = self._extra(extra)
            self._complete(episode, obs, raw, terminated=False, truncated=False)
            self._begin(episode, obs, raw, policy_action, row)

    def log_returns(self, episode_id: str, reward: Any, info: dict | None = None) -> None:
        with self._lock:
            episode = self._episode(episode_id, "log_returns")
            value = finite_number(reward, "log_returns: reward")
            if episode.pending is None:
                raise RequestError(
                    409,
                    "no_action",
                    f"log_returns: episode {episode_id!r} has no action yet for the reward to "
                    "follow; call get_action or log_action first.",
                )
            episode.reward += value
            if info is not None:
                episode.info = info

    def end_episode(self, episode_id: str, observation: Any, truncated: bool = False) -> None:
        """The episode is over: terminated (its last step bootstraps from 0), or with
        ``truncated`` cut short (bootstrapped from the value of ``observation``)."""
        with self._lock:
            episode = self._episode(episode_id, "end_episode")
            obs, raw = self._observation(observation)
            self._complete(episode, obs, raw, terminated=not truncated, truncated=bool(truncated))
            self._enqueue(episode)
            del self._open[episode_id]
            self._ended[episode_id] = None
            if len(self._ended) > _ENDED_REMEMBERED:
                self._ended.popitem(last=False)
            if episode.length:
                self._metrics.append(RolloutMetrics(episode.length, episode.total_reward, {}, {}))

    # --- steps ------------------------------------------------------------------------------

    def _episode(self, episode_id: str, command: str) -> _Episode:
        episode = self._open.get(episode_id)
        if episode is not None and episode.acting:
            raise RequestError(
                409,
                "episode_busy",
                f"{command}: episode {episode_id!r} still waits for the action of its last "
                "get_action; wait for that answer before the next call.",
            )
        if episode is not None:
            return episode
        if episode_id in self._ended:
            raise RequestError(
                409,
                "episode_ended",
                f"{command}: episode {episode_id!r} has ended; start a new one (start_episode).",
            )
        raise RequestError(
            404,
            "unknown_episode",
            f"{command}: unknown episode {episode_id!r}; start it first (start_episode).",
        )

    def _observation(self, value: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """The observation as the policy sees it (preprocessed, filtered by the copy of the
        worker's filter), and before the filter when the worker's filter learns from it."""
        prep = self._preprocessor.transform(observation_from_json(self.observation_space, value))
        return self.filter(prep, update=False), (prep if self._keep_raw else None)

    def _policy_action(self, env_action: Any) -> np.ndarray:
        """An action in the env's units as the policy outputs it (``normalize_actions``
        undone for a Box)."""
        space = self.action_space
        action = np.asarray(env_action)
        if isinstance(space, gym.spaces.Box) and self.config["normalize_actions"]:
            span = np.where(space.high > space.low, space.high - space.low, 1.0)
            action = (action - space.low) * 2.0 / span - 1.0
        return np.asarray(action, dtype=self._action_dtype).reshape(self._action_shape)

    def _extra(self, extra: dict[str, Any]) -> dict[str, np.ndarray]:
        """A local policy's extra outputs for one step: exactly the server policy's names,
        each of its shape, finite numbers (a 422 otherwise)."""
        if set(extra) != set(self.extra_specs):
            missing = sorted(set(self.extra_specs) - set(extra))
            unknown = sorted(set(extra) - set(self.extra_specs))
            what = f"lacks {missing}" if missing else f"has unknown keys {unknown}"
            raise RequestError(
                422,
                "invalid_value",
                f"log_policy_action: extra {what}; it must hold exactly "
                f"{sorted(self.extra_specs)} (GET /v1/info lists them).",
            )
        row = {}
        for name, (dtype, shape) in self.extra_specs.items():
            value = extra[name]
            try:
                array = np.asarray(value, dtype=np.float64)
            except (ValueError, TypeError):
                array = None
            if (
                array is None
                or isinstance(value, bool)
                or array.shape != shape
                or not np.isfinite(array).all()
            ):
                raise RequestError(
                    422,
                    "invalid_value",
                    f"log_policy_action: extra[{name!r}] must be finite numbers of shape "
                    f"{list(shape)}, got {str(value)[:60]}.",
                )
            row[name] = array.astype(dtype)
        return row

    def _begin(
        self, episode: _Episode, obs: np.ndarray, raw: Any, action: Any, extra: dict
    ) -> None:
        """Start a step: its observation, action and extra outputs, waiting for its rewards
        and next observation."""
        action = np.asarray(action)
        if episode.prev_action is None:
            episode.prev_action = np.zeros_like(action)
        step = {
            SampleBatch.OBS: obs,
            SampleBatch.ACTIONS: action,
            SampleBatch.PREV_ACTIONS: episode.prev_action,
            SampleBatch.PREV_REWARDS: np.float32(episode.prev_reward),
            SampleBatch.T: episode.length,
            SampleBatch.EPS_ID: episode.eps_id,
            **extra,
        }
        if raw is not None:
            step[_RAW_OBS] = raw
        episode.pending = step

    def _complete(
        self, episode: _Episode, new_obs: np.ndarray, raw: Any, terminated: bool, truncated: bool
    ) -> None:
        """Finish the pending step (if any) with ``new_obs`` and the rewards logged since."""
        step = episode.pending
        if step is None:
            return
        reward = episode.reward
        step.update(
            {
                SampleBatch.REWARDS: np.float32(reward),
                SampleBatch.NEXT_OBS: new_obs,
                SampleBatch.TERMINATEDS: terminated,
                SampleBatch.TRUNCATEDS: truncated,
                SampleBatch.INFOS: episode.info,
            }
        )
        if episode.training:  # an episode that does not train keeps only its return
            for key, value in step.items():
                episode.rows[key].append(value)
        episode.length += 1
        episode.total_reward += reward
        episode.prev_action = step[SampleBatch.ACTIONS]
        episode.prev_reward = reward
        episode.pending = None
        episode.reward = 0.0
        episode.info = {}
        recorded = len(episode.rows[SampleBatch.OBS])
        # complete_episodes: an episode that never ends is still cut, so a client cannot
        # make the server hold unbounded rows
        if recorded >= (self.fragment if self.truncate else self.max_open_steps):
            self._enqueue(episode)

    def _enqueue(self, episode: _Episode) -> None:
        """Queue the episode's completed steps as one trajectory (unless it does not train)."""
        rows, episode.rows = episode.rows, defaultdict(list)
        if not rows or not episode.training:
            return
        trajectory = SampleBatch({key: _column(key, values) for key, values in rows.items()})
        self._queue.append(trajectory)
        self._queued_steps += trajectory.count
        while self._queued_steps > self.max_queued_steps and len(self._queue) > 1:
            dropped = self._queue.popleft()
            self._queued_steps -= dropped.count
            if not self.num_dropped_steps:
                logger.warning(
                    "Policy server: the worker is not keeping up with its clients; more than "
                    "%d steps were queued, so the oldest are dropped (counted in "
                    "num_dropped_steps).",
                    self.max_queued_steps,
                )
            self.num_dropped_steps += dropped.count
        self._ready.notify_all()


def _column(key: str, values: list) -> np.ndarray:
    if key == SampleBatch.INFOS:
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    if key in (SampleBatch.TERMINATEDS, SampleBatch.TRUNCATEDS):
        return np.asarray(values, dtype=bool)
    if key in (SampleBatch.T, SampleBatch.EPS_ID):
        return np.asarray(values, dtype=np.int64)
    return np.stack([np.asarray(v) for v in values])
