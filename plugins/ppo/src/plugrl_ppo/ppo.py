"""PPO: config, trainer and the framework-free pieces (KL coefficient updates, checks).

Proximal Policy Optimization (Schulman et al. 2017): a clipped surrogate objective with an
adaptive KL penalty, optimised with several epochs of minibatch SGD on each sampled batch.
"""

from __future__ import annotations

import logging
from typing import Any

from plugrl import MinibatchSGDOptimizer, build_trainer
from plugrl.errors import ConfigError
from plugrl.postprocessing import Postprocessing
from plugrl.registry import get_framework
from plugrl_ppo.config import DEFAULT_CONFIG

logger = logging.getLogger(__name__)


def validate_config(config: dict[str, Any]) -> None:
    """Refuse settings PPO cannot train with."""
    if config["sgd_minibatch_size"] > config["train_batch_size"]:
        raise ConfigError(
            f"sgd_minibatch_size ({config['sgd_minibatch_size']}) must be <= train_batch_size "
            f"({config['train_batch_size']})."
        )
    if config["entropy_coeff"] < 0:
        raise ConfigError(f"entropy_coeff must be >= 0, got {config['entropy_coeff']}.")
    if config["batch_mode"] == "truncate_episodes" and not config["use_gae"]:
        raise ConfigError(
            "batch_mode 'truncate_episodes' needs use_gae=True to bootstrap cut episodes; "
            "set use_gae=True or batch_mode='complete_episodes'."
        )
    if config["use_gae"] and not config["use_critic"]:
        raise ConfigError("use_gae=True needs use_critic=True (GAE uses the value function).")


def get_policy_class(config: dict[str, Any]) -> type:
    """The PPO policy for ``config["framework"]`` (its backend plugin must be installed)."""
    framework = config["framework"]
    get_framework(framework)  # a clear error naming the distribution if missing
    if framework == "torch":
        from plugrl_ppo.torch_policy import PPOTorchPolicy

        return PPOTorchPolicy
    if framework in ("tf", "tf2"):
        from plugrl_ppo.tf_policy import PPOTFPolicy

        return PPOTFPolicy
    raise ConfigError(f"PPO has no policy for framework {framework!r}; use 'torch' or 'tf'.")


def choose_policy_optimizer(workers: Any, config: dict[str, Any]) -> Any:
    """Minibatch SGD with standardised advantages (plain SGD when ``simple_optimizer``)."""
    if config["simple_optimizer"]:
        from plugrl import SyncSamplesOptimizer

        return SyncSamplesOptimizer(
            workers,
            num_sgd_iter=config["num_sgd_iter"],
            train_batch_size=config["train_batch_size"],
            standardize_fields=(Postprocessing.ADVANTAGES,),
        )
    return MinibatchSGDOptimizer(
        workers,
        num_sgd_iter=config["num_sgd_iter"],
        train_batch_size=config["train_batch_size"],
        sgd_minibatch_size=config["sgd_minibatch_size"],
        standardize_fields=(Postprocessing.ADVANTAGES,),
        shuffle_sequences=config["shuffle_sequences"],
        seed=config["seed"],
    )


def update_kl(trainer: Any, fetches: dict[str, Any]) -> None:
    """Adapt each policy's KL coefficient to the KL measured in the last optimizer step."""

    def update(policy: Any, policy_id: str) -> None:
        stats = fetches.get(policy_id)
        if stats and "kl" in stats:
            policy.update_kl(stats["kl"])

    trainer.workers.local_worker().foreach_trainable_policy(update)


def warn_about_bad_reward_scales(trainer: Any, result: dict[str, Any]) -> None:
    """Warn (once per trainer) when value clipping is too tight for the rewards seen."""
    mean = result.get("episode_reward_mean")
    clip = trainer.config["vf_clip_param"]
    if getattr(trainer, "_warned_reward_scale", False):
        return
    if mean is not None and mean == mean and abs(mean) > 100 * clip:
        trainer._warned_reward_scale = True
        logger.warning(
            "The mean episode reward (%.1f) is over 100x vf_clip_param (%s): the value "
            "function learns slowly. Raise vf_clip_param or rescale rewards.",
            mean,
            clip,
        )


PPOTrainer = build_trainer(
    name="PPO",
    default_config=DEFAULT_CONFIG,
    default_policy=None,
    get_policy_class=get_policy_class,
    validate_config=validate_config,
    make_policy_optimizer=choose_policy_optimizer,
    after_optimizer_step=update_kl,
    after_train_result=warn_about_bad_reward_scales,
)
