"""plugrl: a reinforcement-learning framework built as a plugin system.

The kernel (this package) holds the Trainer, the Policy base, rollout workers, optimizers,
config, callbacks, checkpoints and the CLI. Algorithms, framework backends and explorations
are separate distributions discovered through the ``plugrl`` entry-point group.

Importing plugrl never imports torch, tensorflow or ray.
"""

from plugrl.callbacks import DefaultCallbacks, MultiCallbacks
from plugrl.config import with_common_config
from plugrl.env.creator import EnvContext
from plugrl.env.multi_agent_env import MultiAgentEnv, make_multi_agent
from plugrl.env.pettingzoo import ParallelPettingZooEnv, PettingZooEnv
from plugrl.env.preprocessors import get_preprocessor
from plugrl.env.task_settable import TaskSettableEnv
from plugrl.errors import (
    CheckpointError,
    ConfigError,
    EnvError,
    OfflineDataError,
    PluginError,
    PlugrlError,
    ResultsError,
    ServingError,
    WorkerError,
)
from plugrl.exploration import Exploration
from plugrl.hookspecs import hookimpl
from plugrl.models import ActionDistribution, ModelCatalog
from plugrl.offline import JsonReader, JsonWriter, SampleBatchBuilder
from plugrl.optimizers import MinibatchSGDOptimizer, PolicyOptimizer, SyncSamplesOptimizer
from plugrl.plugins import get_plugin_manager, register_plugin, unregister_plugin
from plugrl.policy import Policy
from plugrl.postprocessing import Postprocessing, compute_advantages
from plugrl.registry import get_trainer_class, register_env
from plugrl.sample_batch import DEFAULT_POLICY_ID, MultiAgentBatch, SampleBatch
from plugrl.sampling.policy_map import PolicySpec
from plugrl.sampling.rollout_worker import RolloutWorker
from plugrl.sampling.worker_set import WorkerSet
from plugrl.serving import PolicyClient, PolicyServerInput
from plugrl.trainer import Trainer, build_trainer

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_POLICY_ID",
    "ActionDistribution",
    "CheckpointError",
    "ConfigError",
    "DefaultCallbacks",
    "EnvContext",
    "EnvError",
    "Exploration",
    "JsonReader",
    "JsonWriter",
    "MinibatchSGDOptimizer",
    "MultiAgentBatch",
    "MultiAgentEnv",
    "ModelCatalog",
    "MultiCallbacks",
    "OfflineDataError",
    "ParallelPettingZooEnv",
    "PettingZooEnv",
    "PlugrlError",
    "PluginError",
    "Policy",
    "PolicyOptimizer",
    "PolicySpec",
    "Postprocessing",
    "PolicyClient",
    "PolicyServerInput",
    "ResultsError",
    "RolloutWorker",
    "SampleBatch",
    "SampleBatchBuilder",
    "ServingError",
    "SyncSamplesOptimizer",
    "TaskSettableEnv",
    "Trainer",
    "WorkerError",
    "WorkerSet",
    "build_trainer",
    "compute_advantages",
    "get_plugin_manager",
    "get_preprocessor",
    "get_trainer_class",
    "hookimpl",
    "make_multi_agent",
    "register_env",
    "register_plugin",
    "unregister_plugin",
    "with_common_config",
]
