"""MARWIL (advantage-weighted imitation learning) and behaviour cloning for plugrl (names
load on first use)."""

from plugrl.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "BC_DEFAULT_CONFIG": "plugrl_marwil.config",
        "DEFAULT_CONFIG": "plugrl_marwil.config",
        "BCTrainer": "plugrl_marwil.marwil",
        "MARWILTrainer": "plugrl_marwil.marwil",
        "MARWILTorchPolicy": "plugrl_marwil.torch_policy",
        "MARWILTFPolicy": "plugrl_marwil.tf_policy",
    },
    needs={"MARWILTorchPolicy": "torch", "MARWILTFPolicy": "tensorflow"},
)
