"""MultiAgentSampler: how a RolloutWorker steps multi-agent envs.

Each step, the agents that observed something act: their observations are grouped by the
policy mapped to them, across all of the worker's envs, and each policy computes their actions
in one batched call. An agent's transition (observation, action, the rewards it got until it
next observes, next observation) closes when it observes again or is done, so agents may act on
some steps and not others, and enter or leave mid-episode. Trajectories are cut per agent,
postprocessed with the other agents' trajectories of the episode at hand
(``other_agent_batches``), and returned as one :class:`MultiAgentBatch`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import numpy as np

from plugrl.env.multi_agent_env import ALL, check_observation, check_reset, check_step
from plugrl.errors import EnvError
from plugrl.sample_batch import MultiAgentBatch, SampleBatch
from plugrl.sampling.bootstrap import bootstrap_columns
from plugrl.sampling.episode import MultiAgentEpisode
from plugrl.sampling.metrics import RolloutMetrics


class _Agent:
    """One agent of a running episode: its last observation, the action awaiting its next
    observation, the rewards since, and its closed transitions not yet cut."""

    __slots__ = (
        "index",
        "obs",
        "pending",
        "policy_id",
        "prev_action",
        "prev_reward",
        "reward",
        "rows",
        "t",
    )

    def __init__(self, policy_id: str, index: int, zero_action: np.ndarray):
        self.policy_id = policy_id
        self.index = index
        self.obs: np.ndarray | None = None
        # (observation, action, extra action outputs) of the action awaiting its outcome
        self.pending: tuple[np.ndarray, np.ndarray, dict] | None = None
        self.reward = 0.0
        self.prev_action = zero_action
        self.prev_reward = 0.0
        self.rows: list[dict[str, Any]] = []
        self.t = 0


class _Slot:
    """One env's running episode: its agents and which of them act next."""

    def __init__(self, episode: MultiAgentEpisode):
        self.episode = episode
        self.agents: dict[Any, _Agent] = {}
        self.ready: list[Any] = []
        self.agent_steps = 0


class MultiAgentSampler:
    """Samples ``worker``'s envs (:class:`~plugrl.env.multi_agent_env.MultiAgentEnv`) with its
    policy map and mapping function; :meth:`sample` is ``worker.sample_from_envs()``."""

    def __init__(self, worker: Any):
        self.worker = worker
        self.config = worker.config
        self.by_agent_steps = self.config["multiagent"]["count_steps_by"] == "agent_steps"
        self.slots: list[_Slot] = []
        self._zero_actions = {
            pid: np.zeros(p.action_space.shape, dtype=p.action_space.dtype)
            for pid, p in worker.policy_map.items()
        }

    # --- episodes ---------------------------------------------------------------------------

    def _start(self) -> None:
        seed = self.worker._seed
        if seed is not None:  # random actions (explorations' warm-up, Random) draw from these
            for k, policy in enumerate(self.worker.policy_map.values()):
                policy.action_space.seed(seed + k)
        self.slots = [
            self._reset(i, None if seed is None else seed + i) for i in range(len(self.worker.envs))
        ]

    def _reset(self, i: int, seed: int | None = None) -> _Slot:
        worker = self.worker
        env = worker.envs[i]
        raws, infos = check_reset(env, env.reset(seed=seed))
        episode = MultiAgentEpisode(i, worker.policy_map, worker.policy_mapping_fn, worker)
        slot = _Slot(episode)
        self._observe([slot], {(0, agent_id): raw for agent_id, raw in raws.items()}, [infos], 0)
        for policy in worker.policy_map.values():
            if policy.exploration is not None:
                policy.exploration.on_episode_start(policy, environment=env, episode=episode)
        worker._episode_hook("on_episode_start", episode, i)
        return slot

    def _agent(self, slot: _Slot, agent_id: Any) -> _Agent:
        agent = slot.agents.get(agent_id)
        if agent is None:
            pid = slot.episode.policy_for(agent_id)
            agent = _Agent(pid, slot.episode.agent_index(agent_id), self._zero_actions[pid])
            slot.agents[agent_id] = agent
        return agent

    def _observe(self, slots: list[_Slot], raws: dict, infos: list[dict], step: int) -> dict:
        """Preprocess and filter the observations ``raws`` (``{(slot, agent): raw}``), in one
        batch per policy, into the agents' ``obs``; returns ``{(slot, agent): obs}``."""
        worker = self.worker
        by_policy: dict[str, list[tuple[int, Any]]] = defaultdict(list)
        for i, agent_id in raws:
            by_policy[self._agent(slots[i], agent_id).policy_id].append((i, agent_id))
        out = {}
        for pid, keys in by_policy.items():
            envs = [worker.envs[slots[i].episode.env_id] for i, _ in keys]
            values = [raws[key] for key in keys]
            obs = worker.filters[pid](self._preprocess(pid, values, envs, keys, step))
            for key, row in zip(keys, obs, strict=True):
                i, agent_id = key
                slots[i].agents[agent_id].obs = row
                slots[i].episode._observe(agent_id, raws[key], row, infos[i].get(agent_id))
                out[key] = row
        for i, agent_id in raws:
            slots[i].ready.append(agent_id)
        return out

    def _preprocess(self, pid: str, raws: list, envs: list, keys: list, step: int) -> np.ndarray:
        """The observations of policy ``pid``'s agents as one array; an observation that does
        not fit the policy's space is an EnvError naming the env, the agent and the space."""
        prep = self.worker.preprocessors[pid]
        try:
            obs = prep.transform_batch(raws)
        except (KeyError, IndexError, TypeError, ValueError):
            obs = None
        if obs is None or obs.shape[1:] != prep.observation_space.shape:
            call = "reset" if step == 0 else "step"
            for env, (_, agent_id), raw in zip(envs, keys, raws, strict=True):
                check_observation(env, prep.original_space, agent_id, raw, call)
            raise EnvError(f"The observations of policy {pid!r}'s agents do not fit together.")
        return self.worker._guard.finite(obs, envs, [step] * len(envs))

    def _end(self, i: int, slot: _Slot) -> None:
        worker, episode, env = self.worker, slot.episode, self.worker.envs[i]
        for policy in worker.policy_map.values():
            if policy.exploration is not None:
                policy.exploration.on_episode_end(policy, environment=env, episode=episode)
        worker._episode_hook("on_episode_end", episode, i)
        worker._metrics.append(
            RolloutMetrics(
                episode.length,
                episode.total_reward,
                dict(episode.custom_metrics),
                dict(episode.hist_data),
                episode.policy_rewards(),
            )
        )

    # --- sampling ---------------------------------------------------------------------------

    def sample(self) -> MultiAgentBatch:
        """One batch: ``rollout_fragment_length`` steps per env (``count_steps_by`` says
        which steps), cut where they end (truncate_episodes), or whole episodes adding up to at
        least that many (complete_episodes)."""
        worker, config = self.worker, self.config
        if not self.slots:
            self._start()
        target = config["rollout_fragment_length"] * len(self.slots)
        truncate = config["batch_mode"] == "truncate_episodes"
        perf = worker._perf
        batches: dict[str, list[SampleBatch]] = defaultdict(list)
        steps = completed = env_steps = 0
        while (steps if truncate else completed) < target:
            t0 = time.perf_counter()
            acted, action_dicts = self._act()
            t1 = time.perf_counter()
            results = [
                check_step(env, env.step(actions))
                for env, actions in zip(worker.envs, action_dicts, strict=True)
            ]
            t2 = time.perf_counter()
            for i, over in enumerate(self._record(results)):
                if over:
                    slot = self.slots[i]
                    self._cut([slot], batches)
                    completed += slot.agent_steps if self.by_agent_steps else slot.episode.length
                    env_steps += 0 if truncate else slot.episode.length
                    self._end(i, slot)
                    self.slots[i] = self._reset(i)
            steps += acted if self.by_agent_steps else len(self.slots)
            env_steps += len(self.slots) if truncate else 0
            perf["inference_s"] += t1 - t0
            perf["env_wait_s"] += t2 - t1
            perf["processing_s"] += time.perf_counter() - t2
            perf["steps"] += len(self.slots)
        if truncate:
            self._cut(self.slots, batches)
        samples = MultiAgentBatch(
            {pid: SampleBatch.concat_samples(b) for pid, b in batches.items()}, env_steps
        )
        if worker.callbacks.active("on_sample_end"):
            worker.callbacks.call("on_sample_end", worker=worker, samples=samples)
        return samples

    def _act(self) -> tuple[int, list[dict]]:
        """Actions for every agent that observed something: one call per policy; returns how
        many agents acted and each env's action dict."""
        worker = self.worker
        by_policy: dict[str, list[tuple[int, Any]]] = defaultdict(list)
        for i, slot in enumerate(self.slots):
            for agent_id in slot.ready:
                by_policy[slot.agents[agent_id].policy_id].append((i, agent_id))
            slot.ready = []
        action_dicts: list[dict] = [{} for _ in self.slots]
        acted = 0
        for pid, keys in by_policy.items():
            policy = worker.policy_map[pid]
            agents = [self.slots[i].agents[agent_id] for i, agent_id in keys]
            obs = np.stack([agent.obs for agent in agents])
            prev_actions = prev_rewards = None
            if getattr(policy, "prev_inputs", None):  # a model that reads the previous step
                prev_actions = np.stack([agent.prev_action for agent in agents])
                prev_rewards = np.array([agent.prev_reward for agent in agents], np.float32)
            episodes = [self.slots[i].episode for i, _ in keys]
            actions, _, extra = policy.compute_actions(
                obs,
                [],
                prev_actions,
                prev_rewards,
                episodes=episodes,
                timestep=policy.global_timestep,
            )
            actions = np.asarray(actions)
            env_actions = worker.to_env_actions(actions, pid)
            for j, ((i, agent_id), agent) in enumerate(zip(keys, agents, strict=True)):
                slot = self.slots[i]
                agent.pending = (agent.obs, actions[j], {k: v[j] for k, v in extra.items()})
                slot.episode._act(agent_id, actions[j])
                action_dicts[i][agent_id] = env_actions[j]
            acted += len(keys)
        return acted, action_dicts

    def _record(self, results: list[tuple]) -> list[bool]:
        """Take one step's results: rewards to the agents, new observations preprocessed,
        transitions closed; returns, per env, whether its episode is over."""
        worker, config = self.worker, self.config
        horizon = config["horizon"]
        clip_rewards = config["clip_rewards"]
        raws = {}
        for i, (slot, result) in enumerate(zip(self.slots, results, strict=True)):
            obs, rewards, _, _, _ = result
            episode = slot.episode
            episode.length += 1
            if rewards:
                env = worker.envs[i]
                values = worker._guard.rewards(
                    list(rewards.values()), [env] * len(rewards), [episode.length] * len(rewards)
                )
                if clip_rewards:
                    values = (
                        np.sign(values)
                        if clip_rewards is True
                        else np.clip(values, -clip_rewards, clip_rewards)
                    )
                for agent_id, value in zip(rewards, values.tolist(), strict=True):
                    self._agent(slot, agent_id).reward += value
                    episode._reward(agent_id, value)
            raws.update({(i, agent_id): raw for agent_id, raw in obs.items()})
        new_obs = self._observe(self.slots, raws, [r[4] for r in results], 1)
        over_flags = []
        for i, (slot, result) in enumerate(zip(self.slots, results, strict=True)):
            _, _, terminateds, truncateds, infos = result
            cut_off = bool(horizon) and slot.episode.length >= horizon
            over = bool(terminateds[ALL] or truncateds[ALL]) or cut_off
            ended = bool(terminateds[ALL])
            for agent_id, agent in slot.agents.items():
                cut = bool(truncateds.get(agent_id, False))
                terminated = bool(terminateds.get(agent_id, over and ended and not cut))
                truncated = not terminated and (cut or over)
                seen = (i, agent_id) in new_obs
                if agent.pending is not None and (seen or terminated or truncated):
                    new = new_obs[(i, agent_id)] if seen else agent.obs
                    self._close(slot, agent, new, terminated, truncated, infos.get(agent_id))
                    slot.agent_steps += 1
                if terminated or truncated:
                    slot.ready = [a for a in slot.ready if a != agent_id]
            if over:
                slot.ready = []
            if worker.callbacks.active("on_episode_step"):
                worker._episode_hook("on_episode_step", slot.episode, i)
            over_flags.append(over)
        return over_flags

    def _close(
        self,
        slot: _Slot,
        agent: _Agent,
        new_obs: np.ndarray,
        terminated: bool,
        truncated: bool,
        info: dict | None,
    ) -> None:
        """Close ``agent``'s pending transition: one row of its trajectory."""
        obs, action, extra = agent.pending  # type: ignore[misc]
        agent.rows.append(
            {
                SampleBatch.OBS: obs,
                SampleBatch.ACTIONS: action,
                SampleBatch.REWARDS: np.float32(agent.reward),
                SampleBatch.NEXT_OBS: new_obs,
                SampleBatch.TERMINATEDS: terminated,
                SampleBatch.TRUNCATEDS: truncated,
                SampleBatch.INFOS: info if info is not None else {},
                SampleBatch.PREV_ACTIONS: agent.prev_action,
                SampleBatch.PREV_REWARDS: np.float32(agent.prev_reward),
                SampleBatch.T: agent.t,
                SampleBatch.EPS_ID: slot.episode.episode_id,
                SampleBatch.AGENT_INDEX: agent.index,
                **extra,
            }
        )
        agent.prev_action, agent.prev_reward = action, agent.reward
        agent.pending, agent.reward = None, 0.0
        agent.t += 1

    def _cut(self, slots: list[_Slot], batches: dict[str, list[SampleBatch]]) -> None:
        """Every agent's closed transitions in ``slots`` as trajectories, postprocessed (each
        with the other agents' trajectories of its episode) and added to ``batches``; the
        values the cut ones bootstrap with come from one critic call per policy."""
        cut: list[tuple[_Slot, dict[Any, SampleBatch]]] = []
        for slot in slots:
            trajectories = {}
            for agent_id, agent in slot.agents.items():
                if agent.rows:
                    trajectories[agent_id] = _columns(agent.rows)
                    agent.rows = []
            cut.append((slot, trajectories))
        bootstrap = self._bootstrap(cut)
        policy_map = self.worker.policy_map
        for i, (slot, trajectories) in enumerate(cut):
            for agent_id, batch in trajectories.items():
                pid = slot.agents[agent_id].policy_id
                others = {
                    other: (policy_map[slot.agents[other].policy_id], other_batch)
                    for other, other_batch in trajectories.items()
                    if other != agent_id
                }
                column = bootstrap.get((i, agent_id))
                batches[pid].append(
                    self.worker._postprocess(batch, slot.episode, agent_id, pid, others, column)
                )

    def _bootstrap(self, cut: list[tuple[_Slot, dict[Any, SampleBatch]]]) -> dict[tuple, Any]:
        """The ``values_bootstrapped`` column of each trajectory that has one, by its
        ``(index in cut, agent id)``."""
        by_policy: dict[str, list[tuple[tuple, SampleBatch]]] = defaultdict(list)
        for i, (slot, trajectories) in enumerate(cut):
            for agent_id, batch in trajectories.items():
                by_policy[slot.agents[agent_id].policy_id].append(((i, agent_id), batch))
        columns = {}
        for pid, group in by_policy.items():
            found = bootstrap_columns([b for _, b in group], self.worker.policy_map[pid])
            columns.update(
                (key, c) for (key, _), c in zip(group, found, strict=True) if c is not None
            )
        return columns


def _columns(rows: list[dict[str, Any]]) -> SampleBatch:
    """Rows of one trajectory as a SampleBatch (infos as an object column)."""
    columns = {}
    for key in rows[0]:
        values = [row[key] for row in rows]
        if key == SampleBatch.INFOS:
            column = np.empty(len(values), dtype=object)
            column[:] = values
        else:
            column = np.asarray(values)
        columns[key] = column
    return SampleBatch(columns)
