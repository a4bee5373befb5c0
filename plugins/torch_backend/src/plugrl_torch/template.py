"""build_torch_policy: a TorchPolicy subclass from a loss and optional hook functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import torch

from plugrl.policy.template import TemplatePolicy, make_template_class
from plugrl_torch.distributions import get_action_dist
from plugrl_torch.models import get_model
from plugrl_torch.policy import TorchPolicy

TEMPLATE_FUNCTIONS = (
    "loss_fn",
    "get_default_config",
    "postprocess_fn",
    "stats_fn",
    "extra_learn_fetches_fn",
    "extra_action_out_fn",
    "extra_grad_process_fn",
    "optimizer_fn",
    "before_init",
    "before_loss_init",
    "after_init",
    "make_model",
    "action_sampler_fn",
    "action_distribution_fn",
)


class TorchTemplatePolicy(TemplatePolicy, TorchPolicy):
    """A TorchPolicy whose pieces come from ``_template`` (see :func:`build_torch_policy`)."""

    _template: dict[str, Any] = dict.fromkeys(TEMPLATE_FUNCTIONS)

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, config: dict):
        def init_backend(config: dict, model: torch.nn.Module, dist_class: type) -> None:
            TorchPolicy.__init__(
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

    def make_optimizers(self) -> list[torch.optim.Optimizer]:
        if self._template["optimizer_fn"]:
            out = self._template["optimizer_fn"](self, self.config)
            return list(out) if isinstance(out, (list, tuple)) else [out]
        return super().make_optimizers()

    def extra_action_out(
        self, input_dict: dict, state: list, model: Any, action_dist: Any
    ) -> dict[str, Any]:
        fn = self._template["extra_action_out_fn"]
        return fn(self, input_dict, state, model, action_dist) if fn else {}

    def extra_grad_process(
        self, optimizer: torch.optim.Optimizer, loss: torch.Tensor
    ) -> dict[str, Any]:
        fn = self._template["extra_grad_process_fn"]
        return (fn(self, optimizer, loss) or {}) if fn else {}


def build_torch_policy(
    name: str,
    *,
    loss_fn: Callable | None,
    get_default_config: Callable[[], dict] | None = None,
    postprocess_fn: Callable | None = None,
    stats_fn: Callable | None = None,
    extra_learn_fetches_fn: Callable | None = None,
    extra_action_out_fn: Callable | None = None,
    extra_grad_process_fn: Callable | None = None,
    optimizer_fn: Callable | None = None,
    before_init: Callable | None = None,
    before_loss_init: Callable | None = None,
    after_init: Callable | None = None,
    make_model: Callable | None = None,
    action_sampler_fn: Callable | None = None,
    action_distribution_fn: Callable | None = None,
    mixins: list[type] | None = None,
) -> type[TorchTemplatePolicy]:
    """Build a TorchPolicy subclass named ``name``.

    Signatures: ``loss_fn(policy, model, dist_class, train_batch)`` -> loss (or list of
    losses, one per optimizer); ``postprocess_fn(policy, batch, other_agent_batches, episode)``
    -> batch; ``stats_fn(policy, train_batch)`` -> dict;
    ``extra_learn_fetches_fn(policy)`` -> dict returned beside the stats by ``learn_on_batch``;
    ``extra_action_out_fn(policy, input_dict, state, model, action_dist)`` -> dict of columns;
    ``extra_grad_process_fn(policy, optimizer, loss)`` -> dict (runs after backward);
    ``optimizer_fn(policy, config)`` -> optimizer(s); ``before_init``, ``before_loss_init``,
    ``after_init``: ``fn(policy, obs_space, action_space, config)``;
    ``make_model(policy, obs_space, action_space, config)`` -> model;
    ``action_sampler_fn(policy, model, input_dict, state, explore, timestep)`` ->
    ``(actions, logp)``; ``action_distribution_fn(policy, model, obs, *, explore, timestep,
    is_training)`` -> ``(dist_inputs, dist_class, state_out)``.
    """
    overrides = {k: v for k, v in locals().items() if k not in ("name", "mixins")}
    return make_template_class(TorchTemplatePolicy, {"name": name, "mixins": mixins, **overrides})
