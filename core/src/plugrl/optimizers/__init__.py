"""Policy optimizers: how samples flow from workers into learning, one ``step()`` at a time."""

from plugrl.optimizers.minibatch_sgd import MinibatchSGDOptimizer, standardized
from plugrl.optimizers.policy_optimizer import PolicyOptimizer
from plugrl.optimizers.sync_samples import SyncSamplesOptimizer, collect_samples

__all__ = [
    "MinibatchSGDOptimizer",
    "PolicyOptimizer",
    "SyncSamplesOptimizer",
    "collect_samples",
    "standardized",
]
