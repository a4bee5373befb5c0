"""build_trainer: a Trainer subclass from a name, a policy and optional hook functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plugrl.config_schema import CommonConfig
from plugrl.template import make_template_class
from plugrl.trainer.trainer import Trainer

TEMPLATE_BUILDER = True  # see plugrl.template


def build_trainer(
    name: str,
    default_policy: type | None = None,
    default_config: dict | None = None,
    validate_config: Callable[[dict], None] | None = None,
    get_initial_state: Callable[[Trainer], dict] | None = None,
    get_policy_class: Callable[[dict], type | None] | None = None,
    before_init: Callable[[Trainer], None] | None = None,
    make_workers: Callable[..., Any] | None = None,
    make_policy_optimizer: Callable[[Any, dict], Any] | None = None,
    after_init: Callable[[Trainer], None] | None = None,
    before_train_step: Callable[[Trainer], None] | None = None,
    after_optimizer_step: Callable[[Trainer, Any], None] | None = None,
    after_train_result: Callable[[Trainer, dict], None] | None = None,
    collect_metrics_fn: Callable[[Trainer], dict] | None = None,
    before_evaluate_fn: Callable[[Trainer], None] | None = None,
    mixins: list[type] | None = None,
    config_schema: type[CommonConfig] | None = None,
) -> type[Trainer]:
    """Build a Trainer subclass named ``name``.

    ``config_schema``: a :class:`~plugrl.config_schema.CommonConfig` subclass giving the type
    and range of ``default_config``'s own keys (default ``CommonConfig``: the common keys
    only); the merged config is checked against it before anything else runs.

    Construction calls, in order: ``validate_config(config)`` (may change it),
    ``get_initial_state(trainer)`` -> ``trainer.state``, ``get_policy_class(config)`` (None
    falls back to ``default_policy``), ``before_init(trainer)``,
    ``make_workers(trainer, env_creator, policy, config)`` -> WorkerSet,
    ``make_policy_optimizer(workers, config)`` -> PolicyOptimizer (default
    SyncSamplesOptimizer), ``after_init(trainer)``.

    Each ``train()`` calls ``before_train_step(trainer)``, then ``optimizer.step()`` and
    ``after_optimizer_step(trainer, fetches)`` until ``min_iter_time_s`` and
    ``timesteps_per_iteration`` are reached, then ``collect_metrics_fn(trainer)`` (default
    ``trainer.collect_metrics()``) and ``after_train_result(trainer, result)``.
    """
    overrides = {k: v for k, v in locals().items() if k not in ("name", "mixins") and v is not None}
    return make_template_class(Trainer, {"name": name, "mixins": mixins, **overrides})
