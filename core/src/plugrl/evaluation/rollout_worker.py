"""RolloutWorker: steps a set of envs with one batched policy call per step and returns
postprocessed SampleBatches. Used in-process (the local worker) and as a Ray actor."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl import plugins
from plugrl.callbacks import Callbacks
from plugrl.config import COMMON_CONFIG, merge_dicts
from plugrl.env.creator import EnvContext, EnvCreator
from plugrl.env.filters import make_filter
from plugrl.env.preprocessors import Preprocessor
from plugrl.errors import EnvError
from plugrl.evaluation.episode import Episode
from plugrl.evaluation.metrics import RolloutMetrics
from plugrl.registry import registry
from plugrl.sample_batch import DEFAULT_POLICY_ID, SampleBatch

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
        env_creator: ``fn(env_context) -> gymnasium.Env``.
        policy: the Policy class to build (or a ``{policy_id: class}`` dict of one entry).
        config: a trainer config (missing keys take COMMON_CONFIG values).
        worker_index: 0 for the local worker, 1..N for remote ones.
        num_workers: how many remote workers the set has.
        plugin_spec: rebuilds the plugin host in a fresh process (see ``PluginHost.spec``).
        **kwargs: RLlib-style overrides such as ``rollout_fragment_length`` or ``num_envs``.
    """

    def __init__(
        self,
        env_creator: EnvCreator,
        policy: Any,
        config: dict | None = None,
        worker_index: int = 0,
        num_workers: int = 0,
        plugin_spec: dict | None = None,
        runtime_registrations: dict | None = None,
        policy_config: dict | None = None,
        **kwargs: Any,
    ):
        if plugin_spec is not None:
            plugins.reset(plugin_spec)
        for kind, items in (runtime_registrations or {}).items():
            for name, obj in items.items():
                registry(kind).add(name, obj)
        overrides = {_KWARG_KEYS[k]: v for k, v in kwargs.items() if k in _KWARG_KEYS}
        unknown = set(kwargs) - set(_KWARG_KEYS)
        if unknown:
            raise TypeError(f"RolloutWorker got unexpected arguments: {sorted(unknown)}")
        config = merge_dicts(COMMON_CONFIG, config or {}, allow_new=True)
        config = merge_dicts(config, {**(policy_config or {}), **overrides}, allow_new=True)
        config["worker_index"] = worker_index
        self.config = config
        self.worker_index = worker_index
        self.num_workers = num_workers
        self.global_vars: dict[str, Any] = {"timestep": 0}
        self.callbacks = Callbacks(config["callbacks"])
        self._seed = None if config["seed"] is None else config["seed"] + 1000 * worker_index
        if self._seed is not None:
            random.seed(self._seed)
            np.random.seed(self._seed % 2**32)
            framework = config.get("framework")
            if framework in registry("frameworks"):
                registry("frameworks").get(framework).seed(self._seed)

        self.env_context = EnvContext(config["env_config"], worker_index, 0, num_workers)
        self.envs = [self._make_env(env_creator, i) for i in range(config["num_envs_per_worker"])]
        env = self.envs[0]
        self.env = env
        self.preprocessor = Preprocessor(env.observation_space)
        policy_cls = next(iter(policy.values())) if isinstance(policy, dict) else policy
        if isinstance(policy_cls, tuple):  # (cls, obs_space, act_space, config) spec
            policy_cls = policy_cls[0]
        self.policy_map = {
            DEFAULT_POLICY_ID: policy_cls(
                self.preprocessor.observation_space, env.action_space, config
            )
        }
        self.preprocessors = {DEFAULT_POLICY_ID: self.preprocessor}
        self.filters = {
            DEFAULT_POLICY_ID: make_filter(
                config["observation_filter"], self.preprocessor.observation_space.shape
            )
        }
        self._clip_box = config["clip_actions"] and isinstance(env.action_space, gym.spaces.Box)
        self._metrics: list[RolloutMetrics] = []
        self._perf = defaultdict(float)
        self._obs: np.ndarray | None = None
        self._episodes: list[Episode] = []
        self._buffers: list[dict[str, list]] = []
        plugins.get_plugin_manager().hook.on_worker_created(worker=self)

    def _make_env(self, env_creator: EnvCreator, vector_index: int) -> gym.Env:
        ctx = self.env_context.copy_with_overrides(vector_index=vector_index)
        env = env_creator(ctx)
        if not (hasattr(env, "reset") and hasattr(env, "step")):
            raise EnvError(f"The env creator returned {env!r}, which is not a gymnasium.Env "
                           "(it needs reset() and step()).")
        if self.config["horizon"]:
            env = gym.wrappers.TimeLimit(env, max_episode_steps=self.config["horizon"])
        if self.callbacks.active("on_sub_environment_created"):
            self.callbacks.call("on_sub_environment_created", worker=self, sub_environment=env,
                                env_context=ctx)
        return env

    # --- sampling ---------------------------------------------------------------------------

    @property
    def policy(self) -> Any:
        return self.policy_map[DEFAULT_POLICY_ID]

    def _reset_env(self, i: int, seed: int | None = None) -> np.ndarray:
        raw, info = self.envs[i].reset(seed=seed)
        obs = self.filters[DEFAULT_POLICY_ID](self.preprocessor.transform(raw))
        episode = Episode(i, self.policy_map)
        episode._start(raw, obs, info)
        self._episodes[i] = episode
        self._buffers[i] = defaultdict(list)
        pol = self.policy
        if pol.exploration is not None:
            pol.exploration.on_episode_start(pol, environment=self.envs[i], episode=episode)
        if self.callbacks.active("on_episode_start"):
            self.callbacks.call("on_episode_start", worker=self, base_env=self.envs,
                                policies=self.policy_map, episode=episode, env_index=i)
        return obs

    def _start(self) -> None:
        n = len(self.envs)
        self._episodes = [None] * n  # type: ignore[list-item]
        self._buffers = [None] * n  # type: ignore[list-item]
        first = []
        for i in range(n):
            seed = None if self._seed is None else self._seed + i
            if seed is not None:
                self.envs[i].action_space.seed(seed)
            first.append(self._reset_env(i, seed))
        self._obs = np.stack(first)

    def sample(self) -> SampleBatch:
        """Collect one batch: ``rollout_fragment_length`` steps per env (truncate_episodes) or
        whole episodes adding up to at least that many steps per env (complete_episodes)."""
        if self._obs is None:
            self._start()
        config = self.config
        n = len(self.envs)
        target = config["rollout_fragment_length"] * n
        truncate = config["batch_mode"] == "truncate_episodes"
        done_batches: list[SampleBatch] = []
        collected = 0
        steps = 0
        policy, filt, prep = self.policy, self.filters[DEFAULT_POLICY_ID], self.preprocessor
        clip_rewards = config["clip_rewards"]
        on_step = self.callbacks.active("on_episode_step")
        perf = self._perf
        while (steps < config["rollout_fragment_length"]) if truncate else (collected < target):
            t0 = time.perf_counter()
            actions, _, extra = policy.compute_actions(
                self._obs, [], episodes=self._episodes, timestep=policy.global_timestep
            )
            t1 = time.perf_counter()
            actions = np.asarray(actions)
            new_obs_rows = []
            for i, env in enumerate(self.envs):
                action = actions[i]
                env_action = (
                    np.clip(action, env.action_space.low, env.action_space.high)
                    if self._clip_box
                    else action
                )
                raw, reward, terminated, truncated, info = env.step(env_action)
                if clip_rewards:
                    reward = (np.sign(reward) if clip_rewards is True
                              else float(np.clip(reward, -clip_rewards, clip_rewards)))
                obs = filt(prep.transform(raw))
                episode = self._episodes[i]
                buf = self._buffers[i]
                buf["obs"].append(self._obs[i])
                buf["actions"].append(action)
                buf["rewards"].append(reward)
                buf["terminateds"].append(terminated)
                buf["truncateds"].append(truncated)
                buf["infos"].append(info)
                buf["new_obs"].append(obs)
                buf["t"].append(episode.length)
                for key, column in extra.items():
                    buf[key].append(column[i])
                episode._step(action, raw, obs, reward, info, DEFAULT_POLICY_ID)
                if on_step:
                    self.callbacks.call("on_episode_step", worker=self, base_env=self.envs,
                                        policies=self.policy_map, episode=episode, env_index=i)
                if terminated or truncated:
                    batch = self._flush(i)
                    done_batches.append(batch)
                    collected += batch.count
                    self._end_episode(i)
                    obs = self._reset_env(i)
                new_obs_rows.append(obs)
            self._obs = np.stack(new_obs_rows)
            perf["env_wait_s"] += time.perf_counter() - t1
            perf["inference_s"] += t1 - t0
            perf["steps"] += n
            steps += 1
        if truncate:
            for i in range(n):
                if self._buffers[i]["obs"]:
                    done_batches.append(self._flush(i))
        samples = SampleBatch.concat_samples(done_batches)
        if self.callbacks.active("on_sample_end"):
            self.callbacks.call("on_sample_end", worker=self, samples=samples)
        plugins.get_plugin_manager().hook.on_sample_end(worker=self, samples=samples)
        return samples

    def _flush(self, i: int) -> SampleBatch:
        """Postprocess the buffered steps of env ``i`` as one trajectory and clear them."""
        buf = self._buffers[i]
        episode = self._episodes[i]
        batch = SampleBatch({key: _column(values) for key, values in buf.items()})
        batch[SampleBatch.EPS_ID] = np.full(batch.count, episode.episode_id, dtype=np.int64)
        batch[SampleBatch.AGENT_INDEX] = np.zeros(batch.count, dtype=np.int64)
        batch[SampleBatch.DONES] = batch[SampleBatch.TERMINATEDS] | batch[SampleBatch.TRUNCATEDS]
        self._buffers[i] = defaultdict(list)
        original = batch.copy()
        batch = self.policy.postprocess_trajectory(batch, None, episode)
        if self.callbacks.active("on_postprocess_trajectory"):
            self.callbacks.call(
                "on_postprocess_trajectory", worker=self, episode=episode, agent_id="agent0",
                policy_id=DEFAULT_POLICY_ID, policies=self.policy_map,
                postprocessed_batch=batch, original_batches={"agent0": original},
            )
        return batch

    def _end_episode(self, i: int) -> None:
        episode = self._episodes[i]
        pol = self.policy
        if pol.exploration is not None:
            pol.exploration.on_episode_end(pol, environment=self.envs[i], episode=episode)
        if self.callbacks.active("on_episode_end"):
            self.callbacks.call("on_episode_end", worker=self, base_env=self.envs,
                                policies=self.policy_map, episode=episode, env_index=i)
        self._metrics.append(
            RolloutMetrics(episode.length, episode.total_reward, dict(episode.custom_metrics),
                           dict(episode.hist_data))
        )

    def sample_with_count(self) -> tuple[SampleBatch, int]:
        batch = self.sample()
        return batch, batch.count

    def get_metrics(self) -> list[RolloutMetrics]:
        """Completed episodes since the last call (then forgotten here)."""
        out, self._metrics = self._metrics, []
        return out

    def get_perf_stats(self) -> dict[str, float]:
        """Mean time per env step spent in the envs and in inference, in milliseconds."""
        steps = max(1.0, self._perf["steps"])
        return {"mean_env_wait_ms": 1000 * self._perf["env_wait_s"] / steps,
                "mean_inference_ms": 1000 * self._perf["inference_s"] / steps}

    # --- learning ---------------------------------------------------------------------------

    def learn_on_batch(self, samples: SampleBatch) -> dict:
        """Update the policy on ``samples``; returns ``{policy_id: stats}``."""
        result: dict = {}
        if self.callbacks.active("on_learn_on_batch"):
            self.callbacks.call("on_learn_on_batch", policy=self.policy, train_batch=samples,
                                result=result)
        result.update(self.policy.learn_on_batch(samples) or {})
        return {DEFAULT_POLICY_ID: result}

    def compute_gradients(self, samples: SampleBatch) -> tuple[Any, dict]:
        grads, info = self.policy.compute_gradients(samples)
        return grads, {DEFAULT_POLICY_ID: info}

    def apply_gradients(self, grads: Any) -> None:
        self.policy.apply_gradients(grads)

    def sample_and_learn(self) -> tuple[dict, int]:
        batch = self.sample()
        return self.learn_on_batch(batch), batch.count

    # --- weights, filters, state ------------------------------------------------------------

    def get_weights(self, policies: list[str] | None = None) -> dict[str, Any]:
        return {pid: p.get_weights() for pid, p in self.policy_map.items()
                if policies is None or pid in policies}

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
        """Policy states and filter states (arrays kept as numpy)."""
        return {
            "policies": {pid: p.get_state() for pid, p in self.policy_map.items()},
            "filters": {pid: f.get_state() for pid, f in self.filters.items()},
        }

    def restore(self, state: dict[str, Any]) -> None:
        for pid, pstate in state["policies"].items():
            self.policy_map[pid].set_state(pstate)
        for pid, fstate in state.get("filters", {}).items():
            self.filters[pid].set_state(fstate)

    # --- access -----------------------------------------------------------------------------

    def get_policy(self, policy_id: str = DEFAULT_POLICY_ID) -> Any:
        return self.policy_map.get(policy_id)

    def for_policy(self, func: Callable, policy_id: str = DEFAULT_POLICY_ID) -> Any:
        return func(self.policy_map[policy_id])

    def foreach_policy(self, func: Callable) -> list:
        return [func(p, pid) for pid, p in self.policy_map.items()]

    foreach_trainable_policy = foreach_policy

    def foreach_env(self, func: Callable) -> list:
        return [func(env) for env in self.envs]

    def apply(self, func: Callable, *args: Any) -> Any:
        return func(self, *args)

    def get_host(self) -> str:
        import socket

        return socket.gethostname()

    def stop(self) -> None:
        for env in self.envs:
            env.close()


def _column(values: list) -> np.ndarray:
    first = values[0]
    if isinstance(first, dict):
        column = np.empty(len(values), dtype=object)
        column[:] = values
        return column
    return np.asarray(values)
