"""Which policies a worker holds, and which policy acts for which agent: ``config["multiagent"]``
read into :class:`PolicySpec` objects and a mapping function."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from plugrl.env.multi_agent_env import MultiAgentEnv
from plugrl.errors import ConfigError
from plugrl.plugins import import_object
from plugrl.sample_batch import DEFAULT_POLICY_ID


@dataclass
class PolicySpec:
    """One policy of a multi-agent config: its class (None: the trainer's), its spaces (None:
    the env's for the agents mapped to it) and its config overrides."""

    policy_class: type | None = None
    observation_space: gym.Space | None = None
    action_space: gym.Space | None = None
    config: dict[str, Any] = field(default_factory=dict)


def is_multi_agent(config: Mapping[str, Any], env: Any) -> bool:
    """Whether a worker with ``config`` and ``env`` samples per agent."""
    return isinstance(env, MultiAgentEnv) or bool(config["multiagent"]["policies"])


def policy_specs(config: Mapping[str, Any]) -> dict[str, PolicySpec]:
    """``config["multiagent"]["policies"]`` as PolicySpecs (a list of ids: specs with
    everything left to the trainer and the env); none given: the default policy alone."""
    policies = config["multiagent"]["policies"]
    if not policies:
        return {DEFAULT_POLICY_ID: PolicySpec()}
    if not isinstance(policies, Mapping):
        return {str(pid): PolicySpec() for pid in policies}
    return {str(pid): _spec(pid, value) for pid, value in policies.items()}


def _spec(policy_id: Any, value: Any) -> PolicySpec:
    if isinstance(value, PolicySpec):
        return value
    if value is None:
        return PolicySpec()
    if isinstance(value, list | tuple) and len(value) == 4:
        cls, obs_space, action_space, overrides = value
        problem = _spec_problem(cls, obs_space, action_space, overrides)
        if not problem:
            return PolicySpec(cls, obs_space, action_space, dict(overrides or {}))
    else:
        problem = f"got {value!r:.80}"
    raise ConfigError(
        f"multiagent.policies[{policy_id!r}] must be a PolicySpec or a tuple (policy class or "
        f"None, observation space or None, action space or None, config dict): {problem}."
    )


def _spec_problem(cls: Any, obs_space: Any, action_space: Any, overrides: Any) -> str | None:
    if cls is not None and not isinstance(cls, type):
        return f"the policy class is {cls!r:.60}"
    for name, space in (("observation", obs_space), ("action", action_space)):
        if space is not None and not isinstance(space, gym.Space):
            return f"the {name} space is {space!r:.60}"
    if overrides is not None and not isinstance(overrides, Mapping):
        return f"the config is {overrides!r:.60}"
    return None


def mapping_fn(config: Mapping[str, Any], policy_ids: list[str]) -> Callable[..., str]:
    """``fn(agent_id, episode, worker) -> policy_id``: the config's ``policy_mapping_fn`` (a
    function, possibly of the agent id alone, or a ``"module:function"`` path), else every
    agent to the only policy (or to the default policy)."""
    fn = config["multiagent"]["policy_mapping_fn"]
    if fn is None:
        if len(policy_ids) == 1 or DEFAULT_POLICY_ID in policy_ids:
            only = policy_ids[0] if len(policy_ids) == 1 else DEFAULT_POLICY_ID
            return lambda agent_id, episode=None, worker=None, **kwargs: only
        raise ConfigError(
            f"multiagent.policies has {len(policy_ids)} policies ({', '.join(policy_ids)}) "
            "but no policy_mapping_fn: set one, fn(agent_id, episode, worker, **kwargs) -> "
            "policy_id."
        )
    if isinstance(fn, str):
        try:
            fn = import_object(fn)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(
                f"multiagent.policy_mapping_fn {fn!r} cannot be imported: {exc}."
            ) from None
    if _positional_params(fn) == 1:  # RLlib's older form: fn(agent_id)
        single = fn
        return lambda agent_id, episode=None, worker=None, **kwargs: single(agent_id)
    return fn


def checked_policy_id(policy_id: Any, agent_id: Any, policy_ids: Any) -> str:
    """``policy_id`` as the mapping function returned it for ``agent_id``, if it names a
    policy of the worker; else a one-line ConfigError."""
    if policy_id not in policy_ids:
        raise ConfigError(
            f"policy_mapping_fn mapped agent {agent_id!r} to {policy_id!r}, which is not among "
            f"multiagent.policies ({', '.join(map(str, policy_ids))})."
        )
    return policy_id


def infer_spaces(
    specs: dict[str, PolicySpec], env: Any, mapping: Callable[..., str], worker: Any
) -> dict[str, PolicySpec]:
    """``specs`` with every missing space filled in from ``env``: the spaces of the agents
    mapped to each policy (a ConfigError when they differ, or when no agent maps to it)."""
    found: dict[str, tuple[gym.Space, gym.Space, Any]] = {}
    if isinstance(env, MultiAgentEnv):
        for agent_id in env.get_agent_ids():
            try:
                pid = mapping(agent_id, None, worker)
            except Exception:  # a mapping that needs the episode: spaces must be given
                continue
            spaces = (env.get_observation_space(agent_id), env.get_action_space(agent_id))
            if pid in found and found[pid][:2] != spaces:
                raise ConfigError(
                    f"Agents {found[pid][2]!r} and {agent_id!r} map to policy {pid!r} but have "
                    f"different spaces ({found[pid][:2]} vs {spaces}): give the policy its "
                    "own spaces in multiagent.policies, or map them to different policies."
                )
            found.setdefault(pid, (*spaces, agent_id))
    elif env is not None:
        found = {pid: (env.observation_space, env.action_space, None) for pid in specs}
    out = {}
    for pid, spec in specs.items():
        obs_space, action_space = spec.observation_space, spec.action_space
        if obs_space is None or action_space is None:
            if pid not in found:
                raise ConfigError(
                    f"Cannot infer the spaces of policy {pid!r}: no agent of the env "
                    f"({_agents(env)}) maps to it through policy_mapping_fn. Give its spaces "
                    "in multiagent.policies."
                )
            obs_space = obs_space or found[pid][0]
            action_space = action_space or found[pid][1]
        out[pid] = PolicySpec(spec.policy_class, obs_space, action_space, spec.config)
    return out


def policies_to_train(config: Mapping[str, Any], policy_ids: list[str]) -> list[str]:
    """The ids of the policies that learn (all of them unless the config says)."""
    chosen = config["multiagent"]["policies_to_train"]
    if chosen is None:
        return list(policy_ids)
    unknown = [pid for pid in chosen if pid not in policy_ids]
    if unknown:
        raise ConfigError(
            f"multiagent.policies_to_train names {unknown}, which are not among "
            f"multiagent.policies ({', '.join(policy_ids)})."
        )
    return list(chosen)


def _agents(env: Any) -> str:
    ids = env.get_agent_ids() if isinstance(env, MultiAgentEnv) else []
    return f"agents {ids}" if ids else "it lists no possible_agents"


def _positional_params(fn: Callable) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 3
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return 3
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def check_frameworks(specs: dict[str, PolicySpec], config: Mapping[str, Any]) -> None:
    """A ConfigError when the policies would run on different frameworks (one worker seeds,
    places and saves one framework's policies)."""
    frameworks = {}
    for pid, spec in specs.items():
        framework = getattr(spec.policy_class, "framework", None) or config["framework"]
        override = spec.config.get("framework", framework)
        if override != framework:
            raise ConfigError(
                f"multiagent.policies[{pid!r}] sets framework {override!r}, but its policy "
                f"class runs on {framework!r}: give it a policy class of {override!r} instead."
            )
        frameworks[pid] = framework
    if len(set(frameworks.values())) > 1:
        listed = ", ".join(f"{pid}: {fw}" for pid, fw in frameworks.items())
        raise ConfigError(
            f"The policies run on different frameworks ({listed}); one trainer trains policies "
            "of one framework. Give every policy a class of the same framework."
        )
