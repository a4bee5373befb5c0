"""torch's Adam without ``torch._dynamo``, and its fused step without the general case's
Python.

Every ``torch.optim`` optimizer imports ``torch._dynamo`` the first time it adds a param group,
steps, zeroes gradients or saves or loads its state, so that ``torch.compile`` can trace or
skip those calls. On the CPU that import costs a process about 1.5 s and 75 MiB, more than the
rest of plugrl's start-up, and buys nothing for an optimizer that is not compiled.
:class:`Adam` is ``torch.optim.Adam`` (the same arithmetic, state, checkpoints and hooks)
calling those methods as torch wrote them, without the wrappers that import dynamo.

Its ``step`` also calls torch's fused kernel directly when that is all torch's step would do
(fused plain Adam, the state made, one device and dtype per group): torch's step first sorts
every weight through code for sparse, complex, capturable and multi-device cases, which for
the small networks RL uses costs as much as the update itself. That step keeps a group's
step counts as the elements of one tensor, so one add counts a step (on the CPU a foreach add
adds to each weight's count in turn), and ``zero_grad`` opens no profiler range unless a
profiler runs.
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


# group options under which a fused step is not plain Adam (torch's own step handles them)
_NOT_PLAIN = ("amsgrad", "capturable", "differentiable", "decoupled_weight_decay")


class Adam(torch.optim.Adam):
    """``torch.optim.Adam`` that does not import ``torch._dynamo`` (see the module); do not
    call it inside a function that ``torch.compile`` traces."""

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        _ADD_PARAM_GROUP(self, param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        if set_to_none and not torch._C._autograd._profiler_enabled():
            # torch's opens a profiler range even when no profiler runs (5 us a call)
            for group in self.param_groups:
                for param in group["params"]:
                    param.grad = None
            return
        _ZERO_GRAD(self, set_to_none)

    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        if closure is None and self._fused_step():
            return None
        with torch.set_grad_enabled(self.defaults["differentiable"]):
            return _STEP(self, closure)

    def _fused_step(self) -> bool:
        """torch's fused Adam kernel called as ``step`` would call it, without the Python
        that prepares the general case; ``False`` (nothing done) unless every group is plain
        fused Adam on one device and dtype whose weights have their state already."""
        if getattr(self, "grad_scale", None) is not None:
            return False
        found_inf = getattr(self, "found_inf", None)
        calls = []
        for group in self.param_groups:
            lr = group["lr"]
            if (
                not group["fused"]
                or any(group.get(key) for key in _NOT_PLAIN)
                or any(isinstance(beta, torch.Tensor) for beta in group["betas"])
                or (isinstance(lr, torch.Tensor) and lr.device.type != "cpu")
            ):
                return False
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            states = [self.state.get(p) for p in params]
            device, dtype = params[0].device, params[0].dtype
            if not all(states) or any(
                p.device != device or p.dtype != dtype or p.grad.is_sparse for p in params
            ):
                return False
            calls.append((group, params, states))
        for group, params, states in calls:
            counts, steps = _step_counts(group, states)
            skip = None if found_inf is None else found_inf.to(params[0].device)
            beta1, beta2 = group["betas"]
            if counts is None:
                torch._foreach_add_(steps, 1)
            else:
                counts.add_(1)
            torch._fused_adam_(
                params,
                [p.grad for p in params],
                [state["exp_avg"] for state in states],
                [state["exp_avg_sq"] for state in states],
                [],
                steps,
                amsgrad=False,
                lr=group["lr"],
                beta1=beta1,
                beta2=beta2,
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                maximize=group["maximize"],
                grad_scale=None,
                found_inf=skip,
            )
            if found_inf is not None:
                if counts is None:
                    torch._foreach_sub_(steps, [skip] * len(steps))
                else:
                    counts.sub_(skip)
        return True

    def state_dict(self) -> dict[str, Any]:
        return _STATE_DICT(self)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        _LOAD_STATE_DICT(self, state_dict)


def _step_counts(
    group: dict[str, Any], states: list[dict[str, Any]]
) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
    """The step counts of ``states`` (the weights of ``group`` that have gradients), and the
    one tensor whose elements they are when they are all of the group's: then one add counts a
    step for every weight (a foreach add on the CPU adds to each tensor in turn). Counts that
    are not one tensor's elements yet (the first step, a load_state_dict) are joined."""
    steps = [state["step"] for state in states]
    if len(steps) != len(group["params"]):
        return None, steps
    counts = steps[0]._base
    if counts is None or counts.numel() != len(steps) or any(s._base is not counts for s in steps):
        if len({(step.device, step.dtype) for step in steps}) != 1:
            return None, steps
        counts = torch.stack(steps)
        steps = list(counts.unbind())
        for state, count in zip(states, steps, strict=True):
            state["step"] = count
    return counts, steps
