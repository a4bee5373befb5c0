"""Exploration: how a policy turns an action distribution into actions.

Subclasses override ``get_exploration_action(*, action_distribution, timestep, explore=True)``
and return ``(actions, logp)``. Both call forms work: the keyword form, and the older
positional ``(distribution_inputs, action_dist_class, model=None, explore=True, timestep=None)``
(as callers and as a subclass's own signature). :class:`StochasticSampling` is the default.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.errors import ConfigError, did_you_mean
from plugrl.plugins import import_object
from plugrl.registry import registry

_OLD_FORM = ("distribution_inputs", "action_dist_class", "model", "explore", "timestep")


class Exploration:
    """Base class of explorations; the default behaviour samples from the distribution.

    An exploration that draws with numpy takes its generator from
    :func:`plugrl.sampling.seeding.numpy_random` (the sampling worker's own, so seeded runs
    repeat whatever else the process runs).
    """

    def __init__(
        self,
        action_space: gym.Space,
        *,
        framework: str,
        policy_config: dict,
        model: Any,
        num_workers: int = 0,
        worker_index: int = 0,
    ):
        self.action_space = action_space
        self.framework = framework
        self.policy_config = policy_config
        self.model = model
        self.num_workers = num_workers
        self.worker_index = worker_index

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        method = cls.__dict__.get("get_exploration_action")
        if method is not None:
            cls.get_exploration_action = _accept_both_forms(method)

    def before_compute_actions(
        self, *, timestep: int | None = None, explore: bool | None = None, **kwargs: Any
    ) -> None:
        """Called before each batched action computation."""

    def get_exploration_action(
        self, *, action_distribution: Any, timestep: int | None, explore: bool = True
    ) -> tuple[Any, Any]:
        """``(actions, logp)`` for a batch; ``explore=False`` gives the deterministic action."""
        raise NotImplementedError

    def log_likelihoods(self, action_distribution: Any, actions: Any) -> Any:
        """Log-probabilities of ``actions`` (a batch) under this exploration's sampling, for
        off-policy estimation; the distribution's own by default."""
        return action_distribution.logp(actions)

    def on_episode_start(
        self, policy: Any, *, environment: Any = None, episode: Any = None, **kwargs: Any
    ) -> None:
        """Called when an episode starts on the worker holding ``policy``."""

    def on_episode_end(
        self, policy: Any, *, environment: Any = None, episode: Any = None, **kwargs: Any
    ) -> None:
        """Called when an episode ends on the worker holding ``policy``."""

    def postprocess_trajectory(self, policy: Any, sample_batch: Any, **kwargs: Any) -> Any:
        """Change a trajectory before the policy's own postprocessing; identity by default."""
        return sample_batch

    def get_info(self) -> dict[str, Any]:
        """Values to report in the learner stats (e.g. the current epsilon)."""
        return {}

    def get_state(self) -> dict[str, Any]:
        """JSON-able state (schedule position) so a restored policy continues it."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned."""


def _accept_both_forms(method):
    params = list(inspect.signature(method).parameters)[1:]
    old_style = bool(params) and params[0] == "distribution_inputs"

    @functools.wraps(method)
    def get_exploration_action(self, *args: Any, **kwargs: Any):
        if args:  # older positional call form
            kwargs.update(zip(_OLD_FORM, args, strict=False))
        if old_style:
            if "action_distribution" in kwargs:
                dist = kwargs.pop("action_distribution")
                kwargs.update(
                    distribution_inputs=dist.inputs, action_dist_class=type(dist), model=dist.model
                )
            return method(self, **kwargs)
        if "distribution_inputs" in kwargs:
            dist_class = kwargs.pop("action_dist_class")
            model = kwargs.pop("model", None)
            kwargs["action_distribution"] = dist_class(kwargs.pop("distribution_inputs"), model)
        kwargs.setdefault("timestep", None)
        return method(self, **kwargs)

    return get_exploration_action


def resolve_exploration_class(type_: Any) -> type:
    """The Exploration class for an ``exploration_config["type"]``: name, dotted path or class."""
    if isinstance(type_, type):
        return type_
    if not isinstance(type_, str):
        raise ConfigError(
            f"exploration_config['type'] must be a name, dotted path or class, got {type_!r}."
        )
    if type_ in registry("explorations"):
        return registry("explorations").load(type_)
    if "." in type_ or ":" in type_:
        try:
            return import_object(type_)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(
                f"exploration_config['type'] {type_!r} cannot be imported: {exc}."
            ) from None
    return registry("explorations").get(type_)  # raises, naming the distribution


def check_exploration_config(exploration_config: dict) -> type:
    """Resolve the type and refuse keys its constructor does not take."""
    cls = resolve_exploration_class(exploration_config.get("type"))
    accepted = _constructor_args(cls)
    for key in exploration_config:
        if key != "type" and key not in accepted:
            raise ConfigError(
                f"Unknown key {key!r} in 'exploration_config' for type "
                f"{cls.__name__}.{did_you_mean(key, accepted)} "
                f"It takes: {', '.join(sorted(accepted)) or 'no arguments'}."
            )
    return cls


_BASE_ARGS = {"action_space", "framework", "policy_config", "model", "num_workers", "worker_index"}


def _constructor_args(cls: type) -> set[str]:
    """Keyword arguments ``cls`` and the parents its ``**kwargs`` reach accept, beyond the
    base ones."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names |= {p.name for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
        if not any(p.kind == p.VAR_KEYWORD for p in params) or klass is Exploration:
            break
    return names - _BASE_ARGS - {"self"}


def build_exploration(
    exploration_config: dict,
    action_space: gym.Space,
    *,
    framework: str,
    policy_config: dict,
    model: Any,
    num_workers: int,
    worker_index: int,
) -> Exploration:
    """Create the exploration ``exploration_config`` describes."""
    cls = check_exploration_config(exploration_config)
    kwargs = {k: v for k, v in exploration_config.items() if k != "type"}
    return cls(
        action_space,
        framework=framework,
        policy_config=policy_config,
        model=model,
        num_workers=num_workers,
        worker_index=worker_index,
        **kwargs,
    )


def random_actions(space: gym.Space, n: int) -> np.ndarray:
    """``n`` uniform samples of ``space`` stacked into one array (drawn with the space's own
    generator, so ``space.seed(s)`` makes them repeat)."""
    rng = space.np_random
    if isinstance(space, gym.spaces.Discrete):
        return (rng.integers(space.n, size=n) + space.start).astype(space.dtype)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return (rng.random((n, *space.shape)) * space.nvec).astype(space.dtype) + space.start
    if isinstance(space, gym.spaces.Box) and space.is_bounded():
        return rng.uniform(space.low, space.high, (n, *space.shape)).astype(space.dtype)
    return np.stack([space.sample() for _ in range(n)])


def batch_size(action_distribution: Any) -> int:
    """Rows in the batch a distribution was built from."""
    return len(action_distribution.inputs)


def deterministic_actions(action_distribution: Any) -> np.ndarray:
    """The distribution's deterministic sample as a numpy array on the host (numpy cannot read
    a torch tensor on a GPU: it is copied back first)."""
    actions = action_distribution.deterministic_sample()
    if hasattr(actions, "detach"):  # a torch tensor, on whatever device
        actions = actions.detach().cpu()
    return np.asarray(actions)


def zero_logp(n: int) -> np.ndarray:
    """The log-probability reported for actions that are not a sample of the distribution."""
    return np.zeros(n, dtype=np.float32)


class StochasticSampling(Exploration):
    """Samples actions from the policy's distribution.

    Args:
        random_timesteps: for this many initial timesteps, act uniformly at random instead.
    """

    def __init__(self, action_space: Any, *, random_timesteps: int = 0, **kwargs: Any):
        super().__init__(action_space, **kwargs)
        self.random_timesteps = random_timesteps
        self.last_timestep = 0

    def get_exploration_action(
        self, *, action_distribution: Any, timestep: int | None, explore: bool = True
    ) -> tuple[Any, Any]:
        if timestep is not None:
            self.last_timestep = timestep
        if not explore:
            action = action_distribution.deterministic_sample()
            return action, zero_logp(batch_size(action_distribution))
        if self.last_timestep < self.random_timesteps:
            action = random_actions(self.action_space, batch_size(action_distribution))
            return action, action_distribution.logp(action)
        return self.sample(action_distribution)

    def sample(self, action_distribution: Any) -> tuple[Any, Any]:
        """Draw exploring actions and their log-likelihoods."""
        action = action_distribution.sample()
        return action, action_distribution.sampled_action_logp()

    def get_state(self) -> dict[str, Any]:
        return {"last_timestep": self.last_timestep}

    def set_state(self, state: dict[str, Any]) -> None:
        self.last_timestep = int(state["last_timestep"])
