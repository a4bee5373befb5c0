"""PG: the framework-free part. A trainer, discounted returns as advantages, and what the
policies of every framework share; each framework adds only its loss (``*_policy.py``).

Vanilla policy gradient (Williams 1992): ascend ``logp(a|s) * G``, ``G`` the discounted
return from ``s`` to the end of its episode.
"""

from __future__ import annotations

from typing import Any

from plugrl import (
    Postprocessing,
    SampleBatch,
    SyncSamplesOptimizer,
    build_trainer,
    compute_advantages,
)
from plugrl.optimizers import build_optimizer
from plugrl_pg.config import DEFAULT_CONFIG, PGConfig


def default_config() -> dict[str, Any]:
    return DEFAULT_CONFIG


def postprocess_returns(
    policy: Any, batch: SampleBatch, other_agent_batches: Any = None, episode: Any = None
) -> SampleBatch:
    """Each step's discounted return to the end of its trajectory, as its advantage."""
    return compute_advantages(batch, 0.0, policy.config["gamma"], use_gae=False, use_critic=False)


POLICY_TEMPLATE: dict[str, Any] = {
    "get_default_config": default_config,
    "postprocess_fn": postprocess_returns,
}
"""What PG's policies share on every framework; each adds its loss."""


def make_optimizer(workers: Any, config: dict[str, Any]) -> SyncSamplesOptimizer:
    """One update per ``train_batch_size`` steps, on standardised returns when asked."""
    fields = (Postprocessing.ADVANTAGES,) if config["standardize_returns"] else ()
    return build_optimizer(
        SyncSamplesOptimizer,
        workers,
        config["optimizer"],
        train_batch_size=config["train_batch_size"],
        standardize_fields=fields,
    )


PGTrainer = build_trainer(
    name="PG",
    default_config=DEFAULT_CONFIG,
    make_policy_optimizer=make_optimizer,
    config_schema=PGConfig,
)
