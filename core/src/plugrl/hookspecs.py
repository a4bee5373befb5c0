"""Hook specifications: every extension point of plugrl.

A plugin is a module or object with functions marked ``@hookimpl`` whose names match these
specs. Arguments are passed by keyword; an implementation may take any subset of them.

Registration hooks receive a ``register`` callable and add named things to the host's
registries. Lifecycle hooks (policy, worker, optimizer, exploration, callback) are called at the
points their docstrings give; user callbacks passed in ``config["callbacks"]`` implement the
same lifecycle hooks.
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "plugrl"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# --- registration -------------------------------------------------------------------------


@hookspec
def register_algorithms(register: Any) -> None:
    """Register trainer classes: ``register("PPO", "plugrl_ppo.ppo:PPOTrainer")``.

    The second argument is an import path (or a zero-argument loader, or the class), so a
    heavy algorithm is imported only when it is used.
    """


@hookspec
def register_frameworks(register: Any) -> None:
    """Register deep-learning backends: ``register("torch", Framework(...))``."""


@hookspec
def register_policies(register: Any) -> None:
    """Register the policy an algorithm uses on a framework:
    ``register("PPO", "torch", "plugrl_ppo.torch_policy:PPOTorchPolicy")`` (an import path, a
    zero-argument loader, or the class).

    Algorithms name their policies here rather than choosing by framework in their code, so
    a framework plugin can add policies for algorithms it does not own. A trainer looks its
    policy up under its own name, then the names of the trainers it was derived from.
    """


@hookspec
def register_explorations(register: Any) -> None:
    """Register exploration classes by their ``exploration_config["type"]`` name: the class,
    or its import path ``"module:Class"`` (imported when first used)."""


@hookspec
def register_optimizers(register: Any) -> None:
    """Register policy optimizer classes by name (e.g. ``"SyncSamplesOptimizer"``): the class,
    or its import path ``"module:Class"`` (imported when first used)."""


@hookspec
def register_models(register: Any) -> None:
    """Register custom model classes by the name used in ``config["model"]["custom_model"]``."""


@hookspec
def register_envs(register: Any) -> None:
    """Register environment creators ``creator(env_config) -> gymnasium.Env`` by name: the
    creator (an env class is one), or its import path ``"module:attr"`` (imported when first
    made)."""


@hookspec
def register_loggers(register: Any) -> None:
    """Register result sinks: ``register("json", factory)``; ``factory(logdir, config)`` returns
    an object with ``on_result(result)`` and ``close()``."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add subcommands to the ``plugrl`` CLI; ``cli`` is the root :class:`click.Group`."""


# --- Policy ---------------------------------------------------------------------------------


@hookspec
def on_policy_created(policy: Any) -> None:
    """Called after a policy is fully built (model, exploration and optimizer exist)."""


@hookspec
def on_learn_on_batch(policy: Any, train_batch: Any, result: dict) -> None:
    """Called before ``policy.learn_on_batch`` updates on ``train_batch``; may add to ``result``."""


# --- Worker ---------------------------------------------------------------------------------


@hookspec
def on_worker_created(worker: Any) -> None:
    """Called when a RolloutWorker has built its envs and policies."""


@hookspec
def on_sub_environment_created(worker: Any, sub_environment: Any, env_context: Any) -> None:
    """Called for every env a worker creates, with the :class:`EnvContext` it was made with."""


@hookspec
def on_sample_end(worker: Any, samples: Any) -> None:
    """Called at the end of ``RolloutWorker.sample()`` with the batch about to be returned."""


# --- Optimizer ------------------------------------------------------------------------------


@hookspec
def before_optimizer_step(optimizer: Any) -> None:
    """Called at the start of every ``PolicyOptimizer.step()``."""


@hookspec
def after_optimizer_step(optimizer: Any, fetches: Any) -> None:
    """Called after every ``PolicyOptimizer.step()`` with the learner stats it returned."""


# --- Exploration ----------------------------------------------------------------------------


@hookspec
def on_exploration_created(exploration: Any, policy: Any) -> None:
    """Called when a policy has built its exploration object."""


# --- Callbacks: episode and training lifecycle ----------------------------------------------


@hookspec
def on_episode_start(
    worker: Any, base_env: Any, policies: dict, episode: Any, env_index: int
) -> None:
    """Called right after an env of ``worker`` is reset for a new ``episode``."""


@hookspec
def on_episode_step(
    worker: Any, base_env: Any, policies: dict, episode: Any, env_index: int
) -> None:
    """Called after each env step of an episode (the episode's last step included)."""


@hookspec
def on_episode_end(
    worker: Any, base_env: Any, policies: dict, episode: Any, env_index: int
) -> None:
    """Called when an episode terminates or is truncated; set ``episode.custom_metrics`` here."""


@hookspec
def on_postprocess_trajectory(
    worker: Any,
    episode: Any,
    agent_id: Any,
    policy_id: str,
    policies: dict,
    postprocessed_batch: Any,
    original_batches: dict,
) -> None:
    """Called after ``policy.postprocess_trajectory``; may change ``postprocessed_batch``
    in place."""


@hookspec
def on_trainer_init(trainer: Any, algorithm: Any) -> None:
    """Called at the end of ``Trainer.__init__``."""


@hookspec
def on_train_result(trainer: Any, algorithm: Any, result: dict) -> None:
    """Called with each ``train()`` result before it is logged; may change ``result``."""


@hookspec
def on_evaluate_start(trainer: Any, algorithm: Any) -> None:
    """Called before an evaluation round."""


@hookspec
def on_evaluate_end(trainer: Any, algorithm: Any, evaluation_metrics: dict) -> None:
    """Called after an evaluation round with its metrics (may be changed in place)."""


CALLBACK_HOOKS = (
    "on_episode_start",
    "on_episode_step",
    "on_episode_end",
    "on_postprocess_trajectory",
    "on_sample_end",
    "on_learn_on_batch",
    "on_trainer_init",
    "on_train_result",
    "on_evaluate_start",
    "on_evaluate_end",
    "on_sub_environment_created",
)
"""The lifecycle hooks a user callbacks object (``config["callbacks"]``) may implement."""
