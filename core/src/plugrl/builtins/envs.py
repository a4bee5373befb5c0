"""The kernel's example envs, by name (each imported when first made)."""

from typing import Any

from plugrl.hookspecs import hookimpl


@hookimpl
def register_envs(register: Any) -> None:
    register("StatelessCartPole", "plugrl.env.stateless_cartpole:StatelessCartPole")
