"""MARWIL (advantage-weighted imitation learning) and behaviour cloning for plugrl."""

from plugrl.lazy import lazy_policies
from plugrl_marwil.config import BC_DEFAULT_CONFIG, DEFAULT_CONFIG
from plugrl_marwil.marwil import BCTrainer, MARWILTrainer

__getattr__, _policies = lazy_policies(
    __name__,
    {
        "MARWILTorchPolicy": ("torch_policy", "torch"),
        "MARWILTFPolicy": ("tf_policy", "tensorflow"),
    },
)
__all__ = ["BC_DEFAULT_CONFIG", "DEFAULT_CONFIG", "BCTrainer", "MARWILTrainer", *_policies]
