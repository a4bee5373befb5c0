"""Registers DQN, SimpleQ and the replay optimizer with plugrl."""

from typing import Any

from plugrl import hookimpl


@hookimpl
def register_algorithms(register: Any) -> None:
    def load_dqn() -> type:
        from plugrl_dqn.dqn import DQNTrainer

        return DQNTrainer

    def load_simple_q() -> type:
        from plugrl_dqn.simple_q import SimpleQTrainer

        return SimpleQTrainer

    register("DQN", load_dqn)
    register("SimpleQ", load_simple_q)


@hookimpl
def register_optimizers(register: Any) -> None:
    from plugrl_dqn.replay_optimizer import SyncReplayOptimizer

    register("SyncReplayOptimizer", SyncReplayOptimizer)
