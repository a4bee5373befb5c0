"""PPO: config, trainer and the framework-free pieces (KL coefficient updates, checks).

Proximal Policy Optimization (Schulman et al. 2017): a clipped surrogate objective with an
adaptive KL penalty, optimised with several epochs of minibatch SGD on each sampled batch.
"""

from __future__ import annotations

import logging
from typing import Any

from plugrl import MinibatchSGDOptimizer, SyncSamplesOptimizer, build_trainer
from plugrl.errors import ConfigError
from plugrl.optimizers import build_optimizer
from plugrl.policy import AdaptiveCoefficient, Coefficient
from plugrl.postprocessing import Postprocessing, postprocess_advantages, vf_preds_fetches
from plugrl_ppo.config import DEFAULT_CONFIG, PPOConfig

logger = logging.getLogger(__name__)


def validate_config(config: dict[str, Any]) -> None:
    """Refuse settings PPO cannot train with."""
    if config["sgd_minibatch_size"] > config["train_batch_size"]:
        raise ConfigError(
            f"sgd_minibatch_size ({config['sgd_minibatch_size']}) must be <= train_batch_size "
            f"({config['train_batch_size']})."
        )
    if config["batch_mode"] == "truncate_episodes" and not config["use_gae"]:
        raise ConfigError(
            "batch_mode 'truncate_episodes' needs use_gae=True to bootstrap cut episodes; "
            "set use_gae=True or batch_mode='complete_episodes'."
        )
    if config["use_gae"] and not config["use_critic"]:
        raise ConfigError("use_gae=True needs use_critic=True (GAE uses the value function).")


def ppo_parts(policy: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The coefficients PPO's loss reads: the entropy bonus (on its schedule) and the adaptive
    KL penalty."""
    return {
        "entropy_coeff": Coefficient(
            config["entropy_coeff"], config["entropy_coeff_schedule"], "entropy_coeff_schedule"
        ),
        "kl_coeff": AdaptiveCoefficient(config["kl_coeff"], config["kl_target"]),
    }


def ppo_stats(policy: Any, train_batch: Any) -> dict[str, Any]:
    """The coefficients in use (the loss reports its own terms)."""
    return {"cur_kl_coeff": policy.kl_coeff.value, "entropy_coeff": policy.entropy_coeff.value}


def default_config() -> dict[str, Any]:
    return DEFAULT_CONFIG


POLICY_TEMPLATE: dict[str, Any] = {
    "get_default_config": default_config,
    "postprocess_fn": postprocess_advantages,
    "make_parts": ppo_parts,
    "stats_fn": ppo_stats,
    "extra_action_out_fn": vf_preds_fetches,
}
"""What PPO's policies share on every framework; each adds its loss."""


def choose_policy_optimizer(workers: Any, config: dict[str, Any]) -> Any:
    """Minibatch SGD with standardised advantages (whole-batch SGD with ``simple_optimizer``);
    ``config["optimizer"]`` passes more arguments to it."""
    settings = {
        "num_sgd_iter": config["num_sgd_iter"],
        "train_batch_size": config["train_batch_size"],
        "standardize_fields": (Postprocessing.ADVANTAGES,),
    }
    if config["simple_optimizer"]:
        return build_optimizer(SyncSamplesOptimizer, workers, config["optimizer"], **settings)
    return build_optimizer(
        MinibatchSGDOptimizer,
        workers,
        config["optimizer"],
        sgd_minibatch_size=config["sgd_minibatch_size"],
        shuffle_sequences=config["shuffle_sequences"],
        seed=config["seed"],
        **settings,
    )


def update_kl(trainer: Any, fetches: dict[str, Any]) -> None:
    """Adapt each policy's KL coefficient to the KL its loss measured in the last optimizer
    step; a loss that reports no ``kl`` leaves the coefficient as it is (said once)."""

    def update(policy: Any, policy_id: str) -> None:
        stats = fetches.get(policy_id)
        if not stats:
            return
        if "kl" in stats:
            policy.kl_coeff.update(stats["kl"])
        elif not getattr(trainer, "_warned_no_kl", False):
            trainer._warned_no_kl = True
            logger.warning(
                "PPO adapts kl_coeff to the 'kl' the loss reports, and %s's loss reports none: "
                "kl_coeff stays at %s. Return it in LossOutput(stats={'kl': ...}).",
                type(policy).__name__,
                float(policy.kl_coeff),
            )

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
    validate_config=validate_config,
    make_policy_optimizer=choose_policy_optimizer,
    after_optimizer_step=update_kl,
    after_train_result=warn_about_bad_reward_scales,
    config_schema=PPOConfig,
)
