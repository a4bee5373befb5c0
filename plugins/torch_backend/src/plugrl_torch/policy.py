"""TorchPolicy and build_torch_policy: the kernel's template policy on the torch backend."""

from __future__ import annotations

from typing import Any

from plugrl.policy.template import TEMPLATE_FUNCTIONS, TemplatePolicy, build_policy
from plugrl_torch.backend import TorchBackend

TEMPLATE_BUILDER = True  # see plugrl.template


class TorchPolicy(TemplatePolicy):
    """A policy whose model, loss and optimizers are torch objects (eager)."""

    backend_class = TorchBackend
    _template: dict[str, Any] = dict.fromkeys((*TEMPLATE_FUNCTIONS, "extra_grad_process_fn"))


def build_torch_policy(name: str, **functions: Any) -> type[TorchPolicy]:
    """A TorchPolicy subclass named ``name``, from the functions every backend's builder takes
    under the same names (``loss_fn``, ``postprocess_fn``, ``stats_fn``, ``make_parts``...;
    see :func:`plugrl.policy.build_policy` for them all and their signatures), plus the
    torch-only ``extra_grad_process_fn(policy, optimizer, loss)`` -> stats, run after each
    backward pass with the gradients in ``param.grad`` (RLlib's hook; ``grad_clip`` needs
    none)."""
    return build_policy(TorchPolicy, name, **functions)
