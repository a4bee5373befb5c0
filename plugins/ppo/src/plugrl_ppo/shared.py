"""The framework-free parts of PPO's policies: mixin setup, learner stats, default config."""

from __future__ import annotations

from typing import Any

from plugrl.policy.mixins import EntropyCoeffSchedule, LearningRateSchedule
from plugrl_ppo.config import DEFAULT_CONFIG
from plugrl_ppo.postprocessing import KLCoeffMixin


def kl_and_loss_stats(policy: Any, train_batch: Any) -> dict[str, Any]:
    """Coefficients in use and the loss terms the loss function left in ``policy._stats``."""
    return {
        "cur_kl_coeff": policy.kl_coeff,
        "cur_lr": policy.cur_lr,
        "entropy_coeff": policy.entropy_coeff,
        **policy._stats,
    }


def setup_mixins(policy: Any, obs_space: Any, action_space: Any, config: dict) -> None:
    """Start the KL coefficient, entropy and learning-rate schedules (``before_loss_init``)."""
    KLCoeffMixin.__init__(policy, config)
    EntropyCoeffSchedule.__init__(policy, config["entropy_coeff"], config["entropy_coeff_schedule"])
    LearningRateSchedule.__init__(policy, config["lr"], config["lr_schedule"])


def default_config() -> dict:
    """PPO's DEFAULT_CONFIG."""
    return DEFAULT_CONFIG
