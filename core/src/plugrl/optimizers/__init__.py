"""Policy optimizers: how samples flow from workers into learning, one ``step()`` at a time."""

from plugrl.optimizers.minibatch_sgd import MinibatchSGDOptimizer
from plugrl.optimizers.policy_optimizer import PolicyOptimizer, build_optimizer
from plugrl.optimizers.sync_samples import SyncSamplesOptimizer, collect_samples, standardized

__all__ = [
    "MinibatchSGDOptimizer",
    "PolicyOptimizer",
    "SyncSamplesOptimizer",
    "build_optimizer",
    "collect_samples",
    "standardized",
]
