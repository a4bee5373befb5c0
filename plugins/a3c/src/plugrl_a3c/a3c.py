"""A2C and A3C: configs, trainers and config checks (the framework-free part).

Advantage actor-critic (Mnih et al. 2016): the policy follows ``logp(a|s) * advantage`` with an
entropy bonus, and a critic learns the value targets. A2C samples from every worker, then
makes one update (optionally accumulating gradients over microbatches); A3C has each Ray
worker compute gradients on its own samples, applied by the driver as they arrive.
"""

from __future__ import annotations

from typing import Any

from plugrl import SyncSamplesOptimizer, build_trainer
from plugrl.errors import ConfigError
from plugrl.optimizers import build_optimizer
from plugrl.policy import Coefficient
from plugrl.postprocessing import postprocess_advantages, vf_preds_fetches
from plugrl_a3c.async_gradients import AsyncGradientsOptimizer
from plugrl_a3c.config import A2C_DEFAULT_CONFIG, DEFAULT_CONFIG, A2CConfig, A3CConfig
from plugrl_a3c.microbatch import MicrobatchOptimizer


def validate_config(config: dict[str, Any]) -> None:
    """Refuse settings actor-critic cannot train with (each value's range is its schema's)."""
    if config["use_gae"] and not config["use_critic"]:
        raise ConfigError("use_gae=True needs use_critic=True (GAE uses the value function).")
    if config["batch_mode"] == "truncate_episodes" and not config["use_critic"]:
        raise ConfigError(
            "batch_mode 'truncate_episodes' needs use_critic=True to bootstrap cut fragments; "
            "set use_critic=True or batch_mode='complete_episodes'."
        )


def validate_a3c_config(config: dict[str, Any]) -> None:
    validate_config(config)
    if config["num_workers"] < 1:
        raise ConfigError(
            "A3C computes gradients on remote workers and needs num_workers >= 1, got "
            f"{config['num_workers']}; use A2C to train in the driver process."
        )


def default_config() -> dict[str, Any]:
    return DEFAULT_CONFIG


def entropy_coeff_part(policy: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The entropy bonus the loss reads, on its schedule."""
    return {
        "entropy_coeff": Coefficient(
            config["entropy_coeff"], config["entropy_coeff_schedule"], "entropy_coeff_schedule"
        )
    }


def entropy_coeff_stats(policy: Any, train_batch: Any) -> dict[str, Any]:
    return {"entropy_coeff": policy.entropy_coeff.value}


POLICY_TEMPLATE: dict[str, Any] = {
    "get_default_config": default_config,
    "postprocess_fn": postprocess_advantages,
    "make_parts": entropy_coeff_part,
    "stats_fn": entropy_coeff_stats,
    "extra_action_out_fn": vf_preds_fetches,
}
"""What the actor-critic policies share on every framework; each adds its loss."""


def make_async_optimizer(workers: Any, config: dict[str, Any]) -> AsyncGradientsOptimizer:
    return build_optimizer(AsyncGradientsOptimizer, workers, config["optimizer"])


def make_sync_optimizer(workers: Any, config: dict[str, Any]) -> SyncSamplesOptimizer:
    """One update per train batch; gradients accumulated over microbatches when set."""
    settings = {"train_batch_size": config["train_batch_size"]}
    if config["microbatch_size"]:
        settings["microbatch_size"] = config["microbatch_size"]
        return build_optimizer(MicrobatchOptimizer, workers, config["optimizer"], **settings)
    return build_optimizer(SyncSamplesOptimizer, workers, config["optimizer"], **settings)


A3CTrainer = build_trainer(
    name="A3C",
    default_config=DEFAULT_CONFIG,
    validate_config=validate_a3c_config,
    make_policy_optimizer=make_async_optimizer,
    config_schema=A3CConfig,
)

A2CTrainer = A3CTrainer.with_updates(
    name="A2C",
    default_config=A2C_DEFAULT_CONFIG,
    validate_config=validate_config,
    make_policy_optimizer=make_sync_optimizer,
    config_schema=A2CConfig,
)
