"""build_tf_policy: a TFPolicy subclass from a loss and optional hook functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym

from plugrl.policy.template import TemplatePolicy, make_template_class
from plugrl_tf.distributions import get_action_dist
from plugrl_tf.models import get_model
from plugrl_tf.policy import GradientComputer, GradsAndVars, TFPolicy

TEMPLATE_FUNCTIONS = (
    "loss_fn",
    "get_default_config",
    "postprocess_fn",
    "stats_fn",
    "optimizer_fn",
    "gradients_fn",
    "apply_gradients_fn",
    "grad_stats_fn",
    "extra_action_fetches_fn",
    "extra_learn_fetches_fn",
    "before_init",
    "before_loss_init",
    "after_init",
    "make_model",
    "action_sampler_fn",
    "action_distribution_fn",
)


class TFTemplatePolicy(TemplatePolicy, TFPolicy):
    """A TFPolicy whose pieces come from ``_template`` (see :func:`build_tf_policy`)."""

    _template: dict[str, Any] = dict.fromkeys(TEMPLATE_FUNCTIONS)

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, config: dict):
        def init_backend(config: dict, model: Any, dist_class: type) -> None:
            TFPolicy.__init__(
                self,
                observation_space,
                action_space,
                config,
                model=model,
                loss=self._template["loss_fn"],
                action_distribution_class=dist_class,
                action_sampler_fn=self._template["action_sampler_fn"],
                action_distribution_fn=self._template["action_distribution_fn"],
            )

        self._init_from_template(
            observation_space,
            action_space,
            config,
            get_action_dist=get_action_dist,
            get_model=get_model,
            init_backend=init_backend,
        )

    def make_optimizers(self) -> list[Any]:
        if self._template["optimizer_fn"]:
            out = self._template["optimizer_fn"](self, self.config)
            return list(out) if isinstance(out, (list, tuple)) else [out]
        return super().make_optimizers()

    def extra_action_fetches(self) -> dict[str, Any]:
        fn = self._template["extra_action_fetches_fn"]
        return fn(self) if fn else {}

    def gradients(self, optimizer: GradientComputer, loss: Any) -> GradsAndVars:
        fn = self._template["gradients_fn"]
        return fn(self, optimizer, loss) if fn else super().gradients(optimizer, loss)

    def apply_grads_and_vars(self, optimizer: Any, grads_and_vars: GradsAndVars) -> None:
        fn = self._template["apply_gradients_fn"]
        if fn:
            fn(self, optimizer, grads_and_vars)
        else:
            super().apply_grads_and_vars(optimizer, grads_and_vars)

    def grad_stats(self, train_batch: dict, grads: list) -> dict[str, Any]:
        fn = self._template["grad_stats_fn"]
        return fn(self, train_batch, grads) if fn else {}


def build_tf_policy(
    name: str,
    *,
    loss_fn: Callable | None,
    get_default_config: Callable[[], dict] | None = None,
    postprocess_fn: Callable | None = None,
    stats_fn: Callable | None = None,
    optimizer_fn: Callable | None = None,
    gradients_fn: Callable | None = None,
    apply_gradients_fn: Callable | None = None,
    grad_stats_fn: Callable | None = None,
    extra_action_fetches_fn: Callable | None = None,
    extra_learn_fetches_fn: Callable | None = None,
    before_init: Callable | None = None,
    before_loss_init: Callable | None = None,
    after_init: Callable | None = None,
    make_model: Callable | None = None,
    action_sampler_fn: Callable | None = None,
    action_distribution_fn: Callable | None = None,
    mixins: list[type] | None = None,
) -> type[TFTemplatePolicy]:
    """Build a TFPolicy subclass named ``name`` (eager; traced with ``eager_tracing``).

    Signatures: ``loss_fn(policy, model, dist_class, train_batch)`` -> loss (or list of
    losses, one per optimizer); ``postprocess_fn(policy, batch, other_agent_batches, episode)``
    -> batch; ``stats_fn(policy, train_batch)`` -> dict; ``optimizer_fn(policy, config)`` ->
    Keras optimizer(s); ``gradients_fn(policy, optimizer, loss)`` -> ``[(grad, var), ...]``
    (``optimizer.compute_gradients(loss)`` gives the plain ones);
    ``apply_gradients_fn(policy, optimizer, grads_and_vars)``;
    ``grad_stats_fn(policy, train_batch, grads)`` -> dict;
    ``extra_action_fetches_fn(policy)`` -> dict of columns (after the forward pass);
    ``extra_learn_fetches_fn(policy)`` -> dict; ``before_init``, ``before_loss_init``,
    ``after_init``: ``fn(policy, obs_space, action_space, config)``;
    ``make_model(policy, obs_space, action_space, config)`` -> model;
    ``action_sampler_fn(policy, model, input_dict, state, explore, timestep)`` ->
    ``(actions, logp)``; ``action_distribution_fn(policy, model, obs, *, explore, timestep,
    is_training)`` -> ``(dist_inputs, dist_class, state_out)``.
    """
    overrides = {k: v for k, v in locals().items() if k not in ("name", "mixins")}
    return make_template_class(TFTemplatePolicy, {"name": name, "mixins": mixins, **overrides})
