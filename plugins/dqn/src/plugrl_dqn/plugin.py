"""Registers DQN, SimpleQ, their policies and the replay optimizer with plugrl."""

from typing import Any

from plugrl import hookimpl


@hookimpl
def register_algorithms(register: Any) -> None:
    register("DQN", "plugrl_dqn.dqn:DQNTrainer")
    register("SimpleQ", "plugrl_dqn.simple_q:SimpleQTrainer")


@hookimpl
def register_policies(register: Any) -> None:
    for algorithm in ("DQN", "SimpleQ"):
        register(algorithm, "torch", f"plugrl_dqn.torch_policy:{algorithm}TorchPolicy")
        register(algorithm, "tf", f"plugrl_dqn.tf_policy:{algorithm}TFPolicy")


@hookimpl
def register_optimizers(register: Any) -> None:
    register("SyncReplayOptimizer", "plugrl_dqn.replay_optimizer:SyncReplayOptimizer")
