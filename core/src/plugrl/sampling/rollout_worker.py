"""RolloutWorker: steps a set of envs with one batched policy call per step and returns
postprocessed SampleBatches. Used in-process (the local worker) and as a Ray actor."""

from __future__ import annotations

import inspect
import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl import plugins
from plugrl.callbacks import Callbacks
from plugrl.config import COMMON_CONFIG, TrainerConfig, complete_config, merge_dicts
from plugrl.env.checker import CheckedEnv, check_step
from plugrl.env.creator import EnvContext, EnvCreator
from plugrl.env.filters import make_filter
from plugrl.env.multi_agent_env import MultiAgentEnv
from plugrl.env.spaces import check_env_spaces, config_spaces
from plugrl.env.video import record_video, with_render_mode
from plugrl.errors import ConfigError
from plugrl.models.catalog import ModelCatalog
from plugrl.offline.estimators import OffPolicyEstimate
from plugrl.offline.io_context import IOContext
from plugrl.offline.json_reader import InputReader
from plugrl.offline.json_writer import OutputWriter
from plugrl.offline.worker_io import OfflineInput, make_input_reader, make_output_writer
from plugrl.policy.policy import Policy, learner_stats, mean_stats
from plugrl.registry import add_runtime_registrations
from plugrl.sample_batch import (
    DEFAULT_POLICY_ID,
    MultiAgentBatch,
    Rows,
    SampleBatch,
    steps_of,
)
from plugrl.sampling.bootstrap import bootstrap_columns
from plugrl.sampling.env_outputs import EnvOutputGuard
from plugrl.sampling.episode import Episode
from plugrl.sampling.metrics import RolloutMetrics
from plugrl.sampling.multi_agent_sampler import MultiAgentSampler
from plugrl.sampling.policy_map import (
    PolicySpec,
    check_frameworks,
    infer_spaces,
    is_multi_agent,
    mapping_fn,
    policies_to_train,
    policy_specs,
)
from plugrl.sampling.recurrent_state import RecurrentStates
from plugrl.sampling.seeding import (
    WorkerGenerators,
    drawing_from,
    fork_generators,
    random_state,
    seed_all,
    set_random_state,
    worker_seed,
)
from plugrl.worker_context import WorkerContext

# RLlib-style keyword arguments -> config keys, for standalone use.
_KWARG_KEYS = {
    "rollout_fragment_length": "rollout_fragment_length",
    "batch_mode": "batch_mode",
    "num_envs": "num_envs_per_worker",
    "observation_filter": "observation_filter",
    "clip_rewards": "clip_rewards",
    "clip_actions": "clip_actions",
    "env_config": "env_config",
    "model_config": "model",
    "callbacks": "callbacks",
    "seed": "seed",
    "episode_horizon": "horizon",
}


class RolloutWorker:
    """Collects experience from ``num_envs_per_worker`` envs with one policy.

    Args:
        env_creator: ``fn(env_context) -> gymnasium.Env``; None for a worker without envs
            (its config gives ``observation_space`` and ``action_space``, its input the
            experiences).
        policy: the Policy class to build.
        config: a trainer config (missing keys take COMMON_CONFIG values).
        worker_index: 0 for the local worker, 1..N for remote ones.
        num_workers: how many remote workers the set has.
        plugin_spec: rebuilds the plugin host in a fresh process (see ``PluginHost.spec``).
        log_dir: the run folder; ``monitor: true`` records videos into ``<log_dir>/videos/``.
        **kwargs: RLlib-style overrides such as ``rollout_fragment_length`` or ``num_envs``.
    """

    def __init__(
        self,
        env_creator: EnvCreator | None,
        policy: Any,
        config: dict | None = None,
        worker_index: int = 0,
        num_workers: int = 0,
        plugin_spec: dict | None = None,
        runtime_registrations: dict | None = None,
        policy_config: dict | None = None,
        log_dir: str | None = None,
        **kwargs: Any,
    ):
        if plugin_spec is not None:
            plugins.reset(plugin_spec)
        add_runtime_registrations(runtime_registrations or {})
        overrides = {_KWARG_KEYS[k]: v for k, v in kwargs.items() if k in _KWARG_KEYS}
        unknown = set(kwargs) - set(_KWARG_KEYS)
        if unknown:
            raise TypeError(f"RolloutWorker got unexpected arguments: {sorted(unknown)}")
        config = complete_config(config, COMMON_CONFIG)
        if policy_config or overrides:  # RLlib-style standalone use
            config = merge_dicts(config, {**(policy_config or {}), **overrides}, allow_new=True)
        self.config = config
        self.worker_index = worker_index
        self.num_workers = num_workers
        self.log_dir = log_dir
        self.context = WorkerContext(worker_index, num_workers, bool(config["in_evaluation"]))
        self.global_vars: dict[str, Any] = {"timestep": 0}
        self.callbacks = Callbacks(config["callbacks"])
        self._seed = worker_seed(config["seed"], worker_index, self.context.in_evaluation)
        # A policy class of a backend (TorchPolicy, TFPolicy) names its framework, which wins
        # over config["framework"] (a custom trainer's policy may be either).
        self._framework = getattr(policy, "framework", None) or config.get("framework")
        if self._seed is not None:  # before any env or model exists
            seed_all(self._seed, self._framework)

        self.env_context = EnvContext(config["env_config"], worker_index, 0, num_workers)
        # No env creator: no envs, the config's spaces (experiences come from the input)
        num_envs = config["num_envs_per_worker"] if env_creator is not None else 0
        self.envs = [self._make_env(env_creator, i) for i in range(num_envs)]
        self.env: gym.Env | None = self.envs[0] if self.envs else None
        if not isinstance(policy, type):
            raise TypeError(
                f"RolloutWorker needs a Policy class, got {policy!r}; several policies are "
                "given in config['multiagent']['policies']."
            )
        self.multi_agent = is_multi_agent(config, self.env)
        specs = self._policy_specs()
        self.policy_mapping_fn = mapping_fn(config, list(specs))
        if self.multi_agent:
            specs = infer_spaces(specs, self.env, self.policy_mapping_fn, self)
        self.preprocessors = {
            pid: ModelCatalog.get_preprocessor_for_space(
                spec.observation_space, _with_overrides(config, spec.config)["model"]
            )
            for pid, spec in specs.items()
        }
        self.filters = {
            pid: _observation_filter(config["observation_filter"], prep, pid)
            for pid, prep in self.preprocessors.items()
        }
        self.policy_map = {
            pid: build_policy(
                spec.policy_class or policy,
                self.preprocessors[pid].observation_space,
                spec.action_space,
                _with_overrides(config, spec.config),
                self.context,
            )
            for pid, spec in specs.items()
        }
        self.policies_to_train = policies_to_train(config, list(self.policy_map))
        if self.multi_agent:
            recurrent = [pid for pid, p in self.policy_map.items() if p.is_recurrent()]
            if recurrent:
                raise ConfigError(
                    f"Policies {recurrent} are recurrent (use_lstm or a recurrent model); "
                    "multi-agent workers do not carry recurrent state yet. Use feed-forward "
                    "models for multi-agent envs."
                )
        self.preprocessor = self.preprocessors.get(DEFAULT_POLICY_ID)
        self.action_space = specs[next(iter(specs))].action_space
        self._guard = EnvOutputGuard(config["nonfinite_env_values"])
        self._metrics: list[RolloutMetrics | OffPolicyEstimate] = []
        self._perf = defaultdict(float)
        self._obs: np.ndarray | None = None
        self._episodes: list[Episode] = []
        self._pending: list[dict | None] = []
        self._prev_actions: np.ndarray | None = None
        self._prev_rewards = np.zeros(len(self.envs), dtype=np.float32)
        self._unroll_ids = itertools.count()
        self.io_context = IOContext(log_dir, config, worker_index, self)
        # the writer first: a reader may start a server, which an error here would leave open
        self.output_writer: OutputWriter | None = make_output_writer(config, self.io_context)
        self.input_reader: InputReader | None = make_input_reader(config, self.io_context)
        self._offline = (
            None
            if self.input_reader is None
            else OfflineInput(self.input_reader, self.policy, config)
        )
        self._multi_agent_sampler = MultiAgentSampler(self) if self.multi_agent else None
        # built: from here on it draws from generators of its own (see sample_from_envs)
        self._generators: WorkerGenerators | None = (
            None if self._seed is None else fork_generators(self._framework)
        )
        plugins.get_plugin_manager().hook.on_worker_created(worker=self)

    def _policy_specs(self) -> dict[str, PolicySpec]:
        """The policies to build: the multi-agent config's (spaces inferred later), or the
        default policy with the env's (or the config's) spaces."""
        if self.multi_agent:
            if self.env is not None and not isinstance(self.env, MultiAgentEnv):
                raise ConfigError(
                    f"multiagent.policies is set but the env ({type(self.env.unwrapped).__name__}"
                    ") is a single-agent env: several policies need a MultiAgentEnv (e.g. "
                    "make_multi_agent(...), or a PettingZoo env through PettingZooEnv)."
                )
            specs = policy_specs(self.config)
            check_frameworks(specs, self.config)
            if self.config["input"] != "sampler":
                raise ConfigError(
                    "Multi-agent workers sample their envs only: input must be 'sampler' "
                    f"(got {self.config['input']!r})."
                )
            return specs
        return {DEFAULT_POLICY_ID: PolicySpec(None, *self._spaces())}

    def _spaces(self) -> tuple[gym.Space, gym.Space]:
        """The observation and action spaces: the env's (the config's, when given, must be the
        same), or the config's when there is no env."""
        if self.env is not None:
            check_env_spaces(self.env, self.config)
            return self.env.observation_space, self.env.action_space
        obs_space, action_space = config_spaces(self.config)
        if obs_space is None or action_space is None:
            raise ConfigError(
                "A rollout worker without an env needs observation_space and action_space in "
                "its config (the spaces of the episodes its input brings)."
            )
        return obs_space, action_space

    def _make_env(self, env_creator: EnvCreator, vector_index: int) -> gym.Env:
        ctx = self.env_context.copy_with_overrides(vector_index=vector_index)
        # monitor: the first env of the worker that samples (remote worker 1 if any) records
        sampler_index = 1 if self.num_workers else 0
        record = self.config["monitor"] and vector_index == 0 and self.worker_index == sampler_index
        if record:
            ctx = with_render_mode(ctx)
        env = env_creator(ctx)
        if isinstance(env, MultiAgentEnv):
            if record:
                raise ConfigError(
                    "monitor: true records videos of single-agent envs only; set it to false "
                    f"for the multi-agent env {type(env).__name__}."
                )
            return env
        # the first reset() and step() are checked against the API and the spaces
        env = CheckedEnv(env)
        if self.config["horizon"]:
            env = gym.wrappers.TimeLimit(env, max_episode_steps=self.config["horizon"])
        if record:
            if not self.log_dir:
                raise ConfigError(
                    "monitor: true records videos into the run folder, but this worker has "
                    "none: pass log_dir (WorkerSet(logdir=...)) or set monitor to false."
                )
            prefix = "evaluation" if self.context.in_evaluation else "train"
            env = record_video(env, Path(self.log_dir) / "videos", name_prefix=prefix)
        if self.callbacks.active("on_sub_environment_created"):
            self.callbacks.call(
                "on_sub_environment_created", worker=self, sub_environment=env, env_context=ctx
            )
        return env

    # --- sampling ---------------------------------------------------------------------------

    @property
    def policy(self) -> Any:
        return self.policy_map[DEFAULT_POLICY_ID]

    def _reset_env(self, i: int, seed: int | None = None) -> np.ndarray:
        """Reset env ``i`` and start a new episode; returns its filtered first observation."""
        raw, info = self.envs[i].reset(seed=seed)
        checked = self._guard.observations(self.preprocessor, [raw], [self.envs[i]], [0])
        obs = self.filters[DEFAULT_POLICY_ID](checked[0])
        episode = Episode(i, self.policy_map)
        episode._start(raw, obs, info)
        self._episodes[i] = episode
        if self._rnn is not None:
            self._rnn.reset(i, episode)
        pol = self.policy
        if pol.exploration is not None:
            pol.exploration.on_episode_start(pol, environment=self.envs[i], episode=episode)
        self._episode_hook("on_episode_start", episode, i)
        return obs

    def _episode_hook(self, hook: str, episode: Episode, env_index: int) -> None:
        if self.callbacks.active(hook):
            self.callbacks.call(
                hook,
                worker=self,
                base_env=self.envs,
                policies=self.policy_map,
                episode=episode,
                env_index=env_index,
            )

    def _start(self) -> None:
        n = len(self.envs)
        self._episodes = [None] * n  # type: ignore[list-item]
        self._pending = [None] * n
        pol = self.policy
        stateful = pol.is_recurrent() or bool(getattr(pol, "prev_inputs", None))
        self._rnn = RecurrentStates(pol, n) if stateful else None
        first = []
        for i in range(n):
            seed = None if self._seed is None else self._seed + i
            if seed is not None:
                self.envs[i].action_space.seed(seed)
            first.append(self._reset_env(i, seed))
        self._obs = np.stack(first)
        self._prev_actions = None
        self._prev_rewards = np.zeros(n, dtype=np.float32)

    def sample(self) -> SampleBatch:
        """One batch: sampled from the envs (:meth:`sample_from_envs`), or read from the
        ``input`` (postprocessed and off-policy estimated as configured), and written to the
        ``output`` when one is set."""
        if self._offline is None:
            batch = self.sample_from_envs()
        else:
            batch, estimates = self._offline.next()
            self._metrics.extend(estimates)
            if self._offline.simulate:  # input_evaluation "simulation": metrics, no learning
                self.sample_from_envs()
        if self.output_writer is not None:
            self.output_writer.write(batch)
        return batch

    def sample_from_envs(self) -> SampleBatch:
        """Collect one batch from the envs: ``rollout_fragment_length`` steps per env
        (truncate_episodes) or whole episodes adding up to at least that many steps per env
        (complete_episodes).

        Steps are recorded as one array per column per step for all envs together; they are
        cut into per-env trajectories and postprocessed at the end of the call. A seeded
        worker's actions and explorations draw from its own generators
        (:mod:`plugrl.sampling.seeding`).
        """
        with drawing_from(self._generators):
            return self._sample_envs()

    def _sample_envs(self) -> SampleBatch:
        if not self.envs:
            raise ConfigError(
                f"Rollout worker {self.worker_index} has no env (env: None), so it cannot "
                "sample: give the config an env, or take experiences only from an input that "
                "steps no envs (no 'sampler' in it, no input_evaluation 'simulation')."
            )
        if self._multi_agent_sampler is not None:
            return self._multi_agent_sampler.sample()
        if self._obs is None:
            self._start()
        config = self.config
        n = len(self.envs)
        fragment = config["rollout_fragment_length"]
        truncate = config["batch_mode"] == "truncate_episodes"
        policy, filt, prep = self.policy, self.filters[DEFAULT_POLICY_ID], self.preprocessor
        clip_rewards = config["clip_rewards"]
        on_step = self.callbacks.active("on_episode_step")
        columns: dict[str, list] = defaultdict(list)
        ends: list[tuple[int, int, Episode]] = []  # (step, env, episode) of episode ends
        completed_steps = 0
        t = 0
        inference_s = env_wait_s = processing_s = 0.0  # added to the worker's timers at the end
        while t < fragment if truncate else completed_steps < fragment * n:
            t0 = time.perf_counter()
            if self._rnn is None:
                actions, _, extra = policy.compute_actions(
                    self._obs, [], episodes=self._episodes, timestep=policy.global_timestep
                )
            else:  # a recurrent policy, or one whose model reads the previous step
                actions, state_out, extra = policy.compute_actions(
                    self._obs,
                    self._rnn.states,
                    self._prev_actions,
                    self._prev_rewards,
                    episodes=self._episodes,
                    timestep=policy.global_timestep,
                )
            t1 = time.perf_counter()
            actions = np.asarray(actions)
            if self._prev_actions is None:
                self._prev_actions = np.zeros_like(actions)
            env_actions = self.to_env_actions(actions)
            # lists while the envs step (a numpy element costs more to set and to read); the
            # flags become the columns' arrays below
            rewards: list = [None] * n
            terminated: list = [False] * n
            truncated: list = [False] * n
            infos: list = [None] * n
            raws: list = [None] * n
            for i, env in enumerate(self.envs):
                result = env.step(env_actions[i])
                try:
                    raws[i], rewards[i], terminated[i], truncated[i], infos[i] = result
                except (TypeError, ValueError):
                    check_step(env, result)  # names what the env returned
                    raise
            t2 = time.perf_counter()
            steps = [e.length + 1 for e in self._episodes]
            rewards = self._guard.rewards(rewards, self.envs, steps)
            if clip_rewards:
                rewards = (
                    np.sign(rewards)
                    if clip_rewards is True
                    else np.clip(rewards, -clip_rewards, clip_rewards)
                )
            new_obs = filt(self._guard.observations(prep, raws, self.envs, steps))
            columns["obs"].append(self._obs)
            columns["actions"].append(actions)
            columns["rewards"].append(rewards)
            columns["terminateds"].append(np.array(terminated, dtype=bool))
            columns["truncateds"].append(np.array(truncated, dtype=bool))
            columns["infos"].append(infos)
            columns["new_obs"].append(new_obs)
            columns["prev_actions"].append(self._prev_actions)
            columns["prev_rewards"].append(self._prev_rewards)
            columns["t"].append(np.array([e.length for e in self._episodes]))
            columns["eps_id"].append(np.array([e.episode_id for e in self._episodes]))
            for key, value in extra.items():
                columns[key].append(value)
            if self._rnn is not None:
                self._rnn.step(columns, state_out, self._episodes)
            next_obs = new_obs.copy()
            self._prev_actions = actions.copy()
            self._prev_rewards = np.array(rewards, dtype=np.float32)  # a copy: zeroed at resets
            for i, episode in enumerate(self._episodes):
                episode._step(
                    actions[i], raws[i], new_obs[i], float(rewards[i]), infos[i], DEFAULT_POLICY_ID
                )
                if on_step:
                    self._episode_hook("on_episode_step", episode, i)
                if terminated[i] or truncated[i]:
                    ends.append((t, i, episode))
                    completed_steps += episode.length
                    self._end_episode(i)
                    next_obs[i] = self._reset_env(i)
                    self._prev_actions[i] = 0
                    self._prev_rewards[i] = 0.0
            self._obs = next_obs
            inference_s += t1 - t0
            env_wait_s += t2 - t1
            processing_s += time.perf_counter() - t2
            t += 1
        perf = self._perf
        perf["inference_s"] += inference_s
        perf["env_wait_s"] += env_wait_s
        perf["processing_s"] += processing_s
        perf["steps"] += n * t
        samples = SampleBatch.concat_samples(self._trajectories(columns, ends, truncate))
        if self.callbacks.active("on_sample_end"):
            self.callbacks.call("on_sample_end", worker=self, samples=samples)
        return samples

    def to_env_actions(self, actions: np.ndarray, policy_id: str = DEFAULT_POLICY_ID) -> Any:
        """What the envs are stepped with, from the actions of policy ``policy_id`` (see
        :func:`env_actions`)."""
        policy = self.policy_map[policy_id]
        return env_actions(actions, policy.action_space, policy.config)

    def _trajectories(self, columns: dict[str, list], ends: list, truncate: bool) -> list:
        """Cut the recorded steps into per-env trajectories and postprocess each.

        A trajectory ends where its episode ended; in truncate_episodes mode the steps after
        the last end form a cut trajectory, in complete_episodes mode they wait for the rest
        of their episode (``self._pending``).
        """
        steps = len(columns["obs"])
        stacked = {key: _stack(values) for key, values in columns.items()}
        segments: list[tuple[SampleBatch, Episode]] = []
        for i in range(len(self.envs)):
            data = {key: value[:, i] for key, value in stacked.items()}
            offset = 0
            if self._pending[i] is not None:  # the start of an episode from earlier calls
                offset = len(self._pending[i]["obs"])
                data = {k: np.concatenate([self._pending[i][k], v]) for k, v in data.items()}
                self._pending[i] = None
            total = offset + steps
            cuts = [(offset + t, episode) for t, j, episode in ends if j == i]
            if truncate and (not cuts or cuts[-1][0] < total - 1):
                cuts.append((total - 1, self._episodes[i]))
            start = 0
            for end, episode in cuts:
                segments.append(
                    (SampleBatch({k: v[start : end + 1] for k, v in data.items()}), episode)
                )
                start = end + 1
            if start < total:  # complete_episodes: an episode still running
                self._pending[i] = {k: v[start:] for k, v in data.items()}
        columns = bootstrap_columns([segment for segment, _ in segments], self.policy)
        return [
            self._postprocess(segment, episode, bootstrap=column)
            for (segment, episode), column in zip(segments, columns, strict=True)
        ]

    def _postprocess(
        self,
        batch: SampleBatch,
        episode: Episode,
        agent_id: Any = "agent0",
        policy_id: str = DEFAULT_POLICY_ID,
        other_agent_batches: dict | None = None,
        bootstrap: np.ndarray | None = None,
    ) -> SampleBatch:
        """Run the policy's (and callbacks') postprocessing on one trajectory of ``agent_id``;
        ``other_agent_batches`` are ``{agent_id: (policy, batch)}`` of the other agents of the
        episode (multi-agent). ``bootstrap`` (see :mod:`plugrl.sampling.bootstrap`) is the
        trajectory's ``values_bootstrapped`` column for the policy's postprocessing alone:
        neither callbacks nor the batch it returns, nor other agents, see it."""
        if SampleBatch.AGENT_INDEX not in batch:
            batch[SampleBatch.AGENT_INDEX] = np.zeros(batch.count, dtype=np.int64)
        batch[SampleBatch.UNROLL_ID] = np.full(batch.count, next(self._unroll_ids))
        batch[SampleBatch.DONES] = batch[SampleBatch.TERMINATEDS] | batch[SampleBatch.TRUNCATEDS]
        track = self.callbacks.active("on_postprocess_trajectory")
        original = batch.copy() if track else None
        if bootstrap is not None:
            batch[SampleBatch.VALUES_BOOTSTRAPPED] = bootstrap
        policy = self.policy_map[policy_id]
        result = policy.postprocess_trajectory(batch, other_agent_batches, episode)
        for trajectory in (batch, result):  # the result may be the batch, or a new one
            trajectory.pop(SampleBatch.VALUES_BOOTSTRAPPED, None)
        batch = result
        if track:
            originals = {k: b for k, (_, b) in (other_agent_batches or {}).items()}
            self.callbacks.call(
                "on_postprocess_trajectory",
                worker=self,
                episode=episode,
                agent_id=agent_id,
                policy_id=policy_id,
                policies=self.policy_map,
                postprocessed_batch=batch,
                original_batches={**originals, agent_id: original},
            )
        return batch

    def _end_episode(self, i: int) -> None:
        episode = self._episodes[i]
        pol = self.policy
        if pol.exploration is not None:
            pol.exploration.on_episode_end(pol, environment=self.envs[i], episode=episode)
        self._episode_hook("on_episode_end", episode, i)
        self._metrics.append(
            RolloutMetrics(
                episode.length,
                episode.total_reward,
                dict(episode.custom_metrics),
                dict(episode.hist_data),
            )
        )

    def sample_with_count(self) -> tuple[SampleBatch | MultiAgentBatch, int]:
        batch = self.sample()
        return batch, self.count_steps(batch)

    def count_steps(self, batch: SampleBatch | MultiAgentBatch) -> int:
        """How many steps ``batch`` holds, as ``multiagent.count_steps_by`` counts them."""
        return steps_of(batch, self.config["multiagent"]["count_steps_by"])

    def get_metrics(self) -> list[RolloutMetrics | OffPolicyEstimate]:
        """Completed episodes (the envs', and those the input reports, e.g. a policy
        server's) and off-policy estimates of the episodes read from the input, since the last
        call (then forgotten here)."""
        out, self._metrics = self._metrics, []
        if self._offline is not None:
            out.extend(self._offline.episode_metrics())
        return out

    def get_perf_stats(self) -> dict[str, float]:
        """Mean time per env step in inference, in the envs, and in the worker's own
        bookkeeping (preprocessing, filters, episodes), in milliseconds; and how many
        non-finite env outputs were replaced (``nonfinite_env_values: clip``)."""
        steps = max(1.0, self._perf["steps"])
        stats = {
            f"mean_{name}_ms": 1000 * self._perf[f"{name}_s"] / steps
            for name in ("inference", "env_wait", "processing")
        }
        return {**stats, "num_nonfinite_env_values_replaced": self._guard.replaced}

    # --- learning ---------------------------------------------------------------------------

    def learn_on_batch(self, samples: SampleBatch | MultiAgentBatch) -> dict:
        """Update the policies on ``samples`` (a SampleBatch is the default policy's; of a
        MultiAgentBatch, the batches of the policies to train); returns ``{policy_id:
        stats}``."""
        return {
            pid: self._learn_on_batch(self.policy_map[pid], batch)
            for pid, batch in self.trainable_batches(samples).items()
        }

    def learn_on_minibatches(
        self,
        policy_id: str,
        samples: SampleBatch,
        minibatches: Sequence[Rows],
        *,
        stats_of_last: int | None = None,
    ) -> dict[str, float]:
        """Update policy ``policy_id`` once per minibatch (some rows of ``samples``), in
        order; returns its learner stats averaged over the last ``stats_of_last`` updates
        (all when ``None``). With an ``on_learn_on_batch`` callback, each minibatch is a
        SampleBatch of its own that the callback sees (and may change) before the policy
        learns on it."""
        policy = self.policy_map[policy_id]
        if not self.callbacks.active("on_learn_on_batch"):
            return policy.learn_on_minibatches(samples, minibatches, stats_of_last=stats_of_last)
        updates = [
            learner_stats(self._learn_on_batch(policy, samples.take(rows))) for rows in minibatches
        ]
        return mean_stats(updates, last=stats_of_last)

    def _learn_on_batch(self, policy: Policy, batch: SampleBatch) -> dict:
        result: dict = {}
        if self.callbacks.active("on_learn_on_batch"):
            self.callbacks.call(
                "on_learn_on_batch", policy=policy, train_batch=batch, result=result
            )
        result.update(policy.learn_on_batch(batch) or {})
        return result

    def compute_gradients(self, samples: SampleBatch | MultiAgentBatch) -> tuple[Any, dict]:
        """Gradients and stats of the policies to train: for a SampleBatch the default
        policy's gradients, for a MultiAgentBatch ``{policy_id: gradients}``."""
        if isinstance(samples, SampleBatch):
            grads, info = self.policy.compute_gradients(samples)
            return grads, {DEFAULT_POLICY_ID: info}
        grads, infos = {}, {}
        for pid, batch in self.trainable_batches(samples).items():
            grads[pid], infos[pid] = self.policy_map[pid].compute_gradients(batch)
        return grads, infos

    def apply_gradients(self, grads: Any) -> None:
        """Apply gradients from :meth:`compute_gradients` (of any worker)."""
        if isinstance(grads, dict):
            for pid, policy_grads in grads.items():
                self.policy_map[pid].apply_gradients(policy_grads)
        else:
            self.policy.apply_gradients(grads)

    def trainable_batches(self, samples: SampleBatch | MultiAgentBatch) -> dict[str, SampleBatch]:
        """``{policy_id: batch}`` of ``samples`` to learn on: a SampleBatch is the default
        policy's; of a MultiAgentBatch, the non-empty batches of the policies to train."""
        if isinstance(samples, SampleBatch):
            return {DEFAULT_POLICY_ID: samples}
        return {
            pid: batch
            for pid, batch in samples.policy_batches.items()
            if pid in self.policies_to_train and batch.count
        }

    def sample_and_learn(self) -> tuple[dict, int]:
        batch = self.sample()
        return self.learn_on_batch(batch), self.count_steps(batch)

    # --- weights, filters, state ------------------------------------------------------------

    def get_weights(self, policies: list[str] | None = None) -> dict[str, Any]:
        return {
            pid: p.get_weights()
            for pid, p in self.policy_map.items()
            if policies is None or pid in policies
        }

    def set_weights(self, weights: dict[str, Any], global_vars: dict | None = None) -> None:
        for pid, w in weights.items():
            self.policy_map[pid].set_weights(w)
        if global_vars:
            self.set_global_vars(global_vars)

    def set_global_vars(self, global_vars: dict[str, Any]) -> None:
        self.global_vars.update(global_vars)
        for policy in self.policy_map.values():
            policy.on_global_var_update(self.global_vars)

    def get_global_vars(self) -> dict[str, Any]:
        return dict(self.global_vars)

    def get_filters(self, flush_after: bool = False) -> dict[str, Any]:
        """Copies of the observation filters; ``flush_after`` clears their sync buffers."""
        out = {pid: f.copy() for pid, f in self.filters.items()}
        if flush_after:
            for f in self.filters.values():
                f.clear_buffer()
        return out

    def sync_filters(self, new_filters: dict[str, Any]) -> None:
        for pid, f in new_filters.items():
            self.filters[pid].sync(f)

    def save(self) -> dict[str, Any]:
        """Policy states, filter states and the random generators' states (arrays kept as
        numpy)."""
        return {
            "policies": {pid: p.get_state() for pid, p in self.policy_map.items()},
            "filters": {pid: f.get_state() for pid, f in self.filters.items()},
            "rng": random_state(self._framework, self._generators),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Take a saved state; the envs start new episodes, from the run's seed, on the next
        :meth:`sample` (a checkpoint holds no env state), so two restores of one state
        continue alike."""
        for pid, pstate in state["policies"].items():
            self.policy_map[pid].set_state(pstate)
        for pid, fstate in state.get("filters", {}).items():
            self.filters[pid].set_state(fstate)
        if "rng" in state:
            set_random_state(state["rng"], self._framework, self._generators)
        self._obs = None  # episodes in progress are dropped
        if self._multi_agent_sampler is not None:
            self._multi_agent_sampler.slots = []

    # --- access -----------------------------------------------------------------------------

    def get_policy(self, policy_id: str = DEFAULT_POLICY_ID) -> Any:
        return self.policy_map.get(policy_id)

    def for_policy(self, func: Callable, policy_id: str = DEFAULT_POLICY_ID) -> Any:
        return func(self.policy_map[policy_id])

    def foreach_policy(self, func: Callable) -> list:
        return [func(p, pid) for pid, p in self.policy_map.items()]

    def foreach_trainable_policy(self, func: Callable) -> list:
        return [func(self.policy_map[pid], pid) for pid in self.policies_to_train]

    def foreach_env(self, func: Callable) -> list:
        return [func(env) for env in self.envs]

    def foreach_env_with_context(self, func: Callable) -> list:
        """``[func(env, env_context) ...]`` for each sub-env, its context naming its
        ``vector_index``."""
        return [
            func(env, self.env_context.copy_with_overrides(vector_index=i))
            for i, env in enumerate(self.envs)
        ]

    def apply(self, func: Callable, *args: Any) -> Any:
        return func(self, *args)

    def get_host(self) -> str:
        import socket

        return socket.gethostname()

    def stop(self) -> None:
        for env in self.envs:
            env.close()
        if self.output_writer is not None:
            self.output_writer.close()
        close_reader = getattr(self.input_reader, "close", None)  # e.g. a server's port
        if close_reader is not None:
            close_reader()


def build_policy(
    policy_class: type, obs_space: gym.Space, action_space: gym.Space, config: dict, context: Any
) -> Any:
    """A policy of ``policy_class`` with the worker ``context``: handed to its constructor when
    that takes one, else set as ``policy.context`` once built (a policy written from scratch
    may take only RLlib's three arguments)."""
    if "context" in inspect.signature(policy_class.__init__).parameters:
        return policy_class(obs_space, action_space, config, context=context)
    policy = policy_class(obs_space, action_space, config)
    policy.context = context
    return policy


def _observation_filter(name: str, preprocessor: Any, policy_id: str) -> Any:
    """The ``observation_filter`` for a policy's preprocessed observations; MeanStdFilter is
    refused for integer images (their model scales the pixels itself)."""
    space = preprocessor.observation_space
    if name == "MeanStdFilter" and np.issubdtype(space.dtype, np.integer):
        raise ConfigError(
            f"observation_filter MeanStdFilter would turn policy {policy_id!r}'s {space.dtype} "
            f"observations {space.shape} into normalized floats, but its model expects them as "
            "they are (images are scaled inside the vision network): use NoFilter."
        )
    return make_filter(name, space.shape)


def _with_overrides(config: dict, overrides: dict) -> dict:
    """A policy's config: the worker's with the policy's overrides (still a checked
    TrainerConfig when the worker's is one)."""
    if not overrides:
        return config
    merged = merge_dicts(config, overrides)
    return TrainerConfig(merged) if isinstance(config, TrainerConfig) else merged


def env_actions(actions: np.ndarray, space: gym.Space, config: dict) -> Any:
    """Actions a policy computed, as an env of ``space`` is stepped with: Box actions
    rescaled from [-1, 1] to the bounds (``normalize_actions``) and clipped to them
    (``clip_actions``), Discrete ones as Python ints (fastest for gymnasium)."""
    if isinstance(space, gym.spaces.Box):
        if config["normalize_actions"]:
            actions = space.low + (np.clip(actions, -1.0, 1.0) + 1.0) * (space.high - space.low) / 2
        if config["clip_actions"]:
            return np.clip(actions, space.low, space.high)
        return actions
    if isinstance(space, gym.spaces.Discrete):
        return actions.tolist()
    return actions


def _stack(values: list) -> np.ndarray:
    """Per-step values for all envs -> one [steps, num_envs, ...] array (infos as objects).
    ``np.array`` stacks a list of equal arrays in a third of ``np.stack``'s time, and in less
    than writing each step into a preallocated column costs."""
    if isinstance(values[0], list):
        out = np.empty((len(values), len(values[0])), dtype=object)
        for t, row in enumerate(values):
            out[t, :] = row
        return out
    return np.array(values)
