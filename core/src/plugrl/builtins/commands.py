"""The kernel's CLI subcommands: train, rollout, plugins."""

from typing import Any

from plugrl.hookspecs import hookimpl


@hookimpl
def register_commands(cli: Any) -> None:
    from plugrl.cli import plugins_command, rollout, train

    cli.add_command(train.train)
    cli.add_command(rollout.rollout)
    cli.add_command(plugins_command.plugins)
