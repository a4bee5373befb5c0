"""The kernel's synchronous policy optimizers."""

from typing import Any

from plugrl.hookspecs import hookimpl
from plugrl.optimizers import MinibatchSGDOptimizer, SyncSamplesOptimizer


@hookimpl
def register_optimizers(register: Any) -> None:
    register("SyncSamplesOptimizer", SyncSamplesOptimizer)
    register("MinibatchSGDOptimizer", MinibatchSGDOptimizer)
