"""Vanilla policy gradient (REINFORCE) for plugrl (names load on first use)."""

from plugrl.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "DEFAULT_CONFIG": "plugrl_pg.config",
        "PGTrainer": "plugrl_pg.pg",
        "PGTorchPolicy": "plugrl_pg.torch_policy",
        "PGTFPolicy": "plugrl_pg.tf_policy",
    },
    needs={"PGTorchPolicy": "torch", "PGTFPolicy": "tensorflow"},
)
