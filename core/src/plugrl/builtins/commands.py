"""The kernel's CLI subcommands: train, rollout, plot, config, plugins."""

from typing import Any

from plugrl.hookspecs import hookimpl


@hookimpl
def register_commands(cli: Any) -> None:
    from plugrl.cli import config_command, plot, plugins_command, rollout, train

    cli.add_command(train.train)
    cli.add_command(rollout.rollout)
    cli.add_command(plot.plot)
    cli.add_command(config_command.config_command)
    cli.add_command(plugins_command.plugins)
