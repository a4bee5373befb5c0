"""The Policy base class and the template machinery backends build policies with."""

from plugrl.policy.policy import Policy
from plugrl.policy.template import TemplateClass

__all__ = ["Policy", "TemplateClass"]
