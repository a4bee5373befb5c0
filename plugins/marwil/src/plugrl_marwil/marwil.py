"""MARWIL and BC: trainers, returns as value targets, and what the policies of every
framework share; each framework adds only its loss (``*_policy.py``).

MARWIL (Wang et al. 2018, "Exponentially Weighted Imitation Learning for Batched Historical
Data") imitates the actions of logged experience weighted by ``exp(beta * advantage / norm)``,
the advantage being the discounted return minus a learned value, and ``norm`` the square root
of a moving average of the squared advantage. With ``beta`` 0 every action weighs the same:
behaviour cloning (BC).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl import Postprocessing, SampleBatch, build_trainer
from plugrl.errors import ConfigError
from plugrl.policy import RunningScalar
from plugrl.postprocessing import discount_cumsum
from plugrl_marwil.config import BC_DEFAULT_CONFIG, DEFAULT_CONFIG, MARWILConfig


def default_config() -> dict[str, Any]:
    return DEFAULT_CONFIG


def postprocess_returns(
    policy: Any, batch: SampleBatch, other_agent_batches: Any = None, episode: Any = None
) -> SampleBatch:
    """Each step's discounted return to the end of its trajectory, as ``value_targets``; a
    trajectory that did not terminate (truncated, or cut at the end of a fragment) is
    completed with the critic's value of its last next observation."""
    if batch[SampleBatch.TERMINATEDS][-1]:
        last_value = 0.0
    else:
        last_value = policy.value(batch[SampleBatch.NEXT_OBS][-1])
    rewards = np.append(np.asarray(batch[SampleBatch.REWARDS], np.float32), np.float32(last_value))
    batch[Postprocessing.VALUE_TARGETS] = discount_cumsum(rewards, policy.config["gamma"])[:-1]
    return batch


def moving_average_part(policy: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The moving average of the squared advantage, which the loss reads and updates in place
    (a backend scalar, so traced code sees it; saved in checkpoints)."""
    start = config["moving_average_sqd_adv_norm_start"]
    return {"moving_average_sqd_adv_norm": RunningScalar(start)}


POLICY_TEMPLATE: dict[str, Any] = {
    "get_default_config": default_config,
    "postprocess_fn": postprocess_returns,
    "make_parts": moving_average_part,
}
"""What MARWIL's policies share on every framework; each adds its loss."""


def validate_config(config: dict[str, Any]) -> None:
    """Refuse settings MARWIL cannot train with."""
    if config["model"]["use_lstm"]:
        raise ConfigError(
            "model use_lstm=True: MARWIL and BC learn from logged steps, which carry no "
            "recurrent state (PPO, PG, A2C and A3C train recurrent policies). Set use_lstm to "
            "false."
        )


MARWILTrainer = build_trainer(
    name="MARWIL",
    default_config=DEFAULT_CONFIG,
    validate_config=validate_config,
    config_schema=MARWILConfig,
)

BCTrainer = MARWILTrainer.with_updates(name="BC", default_config=BC_DEFAULT_CONFIG)
"""MARWIL with ``beta`` 0: behaviour cloning."""
