"""The kernel's synchronous policy optimizers (each imported when first used)."""

from typing import Any

from plugrl.hookspecs import hookimpl


@hookimpl
def register_optimizers(register: Any) -> None:
    register("SyncSamplesOptimizer", "plugrl.optimizers.sync_samples:SyncSamplesOptimizer")
    register("MinibatchSGDOptimizer", "plugrl.optimizers.minibatch_sgd:MinibatchSGDOptimizer")
