"""Policies: the Policy base class, the kernel's outline of acting and learning
(TemplatePolicy) over a backend's tensor primitives (Backend), what a loss returns
(LossOutput) and the state a policy owns (parts)."""

from plugrl.policy.backend import Backend
from plugrl.policy.loss import LossOutput
from plugrl.policy.parts import AdaptiveCoefficient, Coefficient, RunningScalar, TargetNetwork
from plugrl.policy.policy import Policy
from plugrl.policy.template import TemplatePolicy, build_policy

__all__ = [
    "AdaptiveCoefficient",
    "Backend",
    "Coefficient",
    "LossOutput",
    "Policy",
    "RunningScalar",
    "TargetNetwork",
    "TemplatePolicy",
    "build_policy",
]
