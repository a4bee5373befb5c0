"""torch's Adam without ``torch._dynamo``.

Every ``torch.optim`` optimizer imports ``torch._dynamo`` the first time it adds a param group,
steps, zeroes gradients or saves or loads its state, so that ``torch.compile`` can trace or
skip those calls. On the CPU that import costs a process about 1.5 s and 75 MiB, more than the
rest of plugrl's start-up, and buys nothing for an optimizer that is not compiled.
:class:`Adam` is ``torch.optim.Adam`` (the same arithmetic, state, checkpoints and hooks)
calling those methods as torch wrote them, without the wrappers that import dynamo.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch

# Checked against torch 2.13: the wrappers only import dynamo to disable it, and step's also
# sets the grad mode, which Adam.step below does itself.
_ADD_PARAM_GROUP, _ZERO_GRAD, _STEP, _STATE_DICT, _LOAD_STATE_DICT = (
    inspect.unwrap(getattr(torch.optim.Adam, name))
    for name in ("add_param_group", "zero_grad", "step", "state_dict", "load_state_dict")
)


class Adam(torch.optim.Adam):
    """``torch.optim.Adam`` that does not import ``torch._dynamo`` (see the module); do not
    call it inside a function that ``torch.compile`` traces."""

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        _ADD_PARAM_GROUP(self, param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        _ZERO_GRAD(self, set_to_none)

    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        with torch.set_grad_enabled(self.defaults["differentiable"]):
            return _STEP(self, closure)

    def state_dict(self) -> dict[str, Any]:
        return _STATE_DICT(self)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        _LOAD_STATE_DICT(self, state_dict)
