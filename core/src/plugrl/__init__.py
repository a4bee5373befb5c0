"""plugrl: a reinforcement-learning framework built as a plugin system.

The kernel (this package) holds the Trainer, the Policy base, rollout workers, optimizers,
config, callbacks, checkpoints and the CLI. Algorithms, framework backends and explorations
are separate distributions discovered through the ``plugrl`` entry-point group.

Importing plugrl never imports torch, tensorflow or ray, and imports the modules behind its
names only when a name is first used (``from plugrl import Trainer`` imports the trainer), so
the CLI and plugin discovery start fast.
"""

from plugrl.lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "DefaultCallbacks": "plugrl.callbacks",
    "MultiCallbacks": "plugrl.callbacks",
    "with_common_config": "plugrl.config",
    "EnvContext": "plugrl.env.creator",
    "MultiAgentEnv": "plugrl.env.multi_agent_env",
    "make_multi_agent": "plugrl.env.multi_agent_env",
    "ParallelPettingZooEnv": "plugrl.env.pettingzoo",
    "PettingZooEnv": "plugrl.env.pettingzoo",
    "get_preprocessor": "plugrl.env.preprocessors",
    "TaskSettableEnv": "plugrl.env.task_settable",
    "CheckpointError": "plugrl.errors",
    "ConfigError": "plugrl.errors",
    "EnvError": "plugrl.errors",
    "OfflineDataError": "plugrl.errors",
    "PluginError": "plugrl.errors",
    "PlugrlError": "plugrl.errors",
    "ResultsError": "plugrl.errors",
    "ServingError": "plugrl.errors",
    "WorkerError": "plugrl.errors",
    "Exploration": "plugrl.exploration",
    "hookimpl": "plugrl.hookspecs",
    "ActionDistribution": "plugrl.models",
    "ModelCatalog": "plugrl.models",
    "JsonReader": "plugrl.offline",
    "JsonWriter": "plugrl.offline",
    "SampleBatchBuilder": "plugrl.offline",
    "MinibatchSGDOptimizer": "plugrl.optimizers",
    "PolicyOptimizer": "plugrl.optimizers",
    "SyncSamplesOptimizer": "plugrl.optimizers",
    "get_plugin_manager": "plugrl.plugins",
    "register_plugin": "plugrl.plugins",
    "unregister_plugin": "plugrl.plugins",
    "Policy": "plugrl.policy",
    "Postprocessing": "plugrl.postprocessing",
    "compute_advantages": "plugrl.postprocessing",
    "get_trainer_class": "plugrl.registry",
    "register_env": "plugrl.registry",
    "DEFAULT_POLICY_ID": "plugrl.sample_batch",
    "MultiAgentBatch": "plugrl.sample_batch",
    "SampleBatch": "plugrl.sample_batch",
    "PolicySpec": "plugrl.sampling.policy_map",
    "RolloutWorker": "plugrl.sampling.rollout_worker",
    "WorkerSet": "plugrl.sampling.worker_set",
    "PolicyClient": "plugrl.serving",
    "PolicyServerInput": "plugrl.serving",
    "Trainer": "plugrl.trainer",
    "build_trainer": "plugrl.trainer",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
