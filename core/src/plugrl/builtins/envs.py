"""The kernel's example envs, by name."""

from typing import Any

from plugrl.env.stateless_cartpole import StatelessCartPole
from plugrl.hookspecs import hookimpl


@hookimpl
def register_envs(register: Any) -> None:
    register("StatelessCartPole", StatelessCartPole)
