"""Vanilla policy gradient (REINFORCE) for plugrl."""

from plugrl.lazy import lazy_policies
from plugrl_pg.config import DEFAULT_CONFIG
from plugrl_pg.pg import PGTrainer

__getattr__, _policies = lazy_policies(
    __name__,
    {"PGTorchPolicy": ("torch_policy", "torch"), "PGTFPolicy": ("tf_policy", "tensorflow")},
)
__all__ = ["DEFAULT_CONFIG", "PGTrainer", *_policies]
