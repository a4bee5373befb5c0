"""The ``plugrl`` command: a click group whose subcommands come from the ``register_commands``
hook (the kernel's train, rollout and plugins are registered the same way as a plugin's).

A :class:`~plugrl.errors.PlugrlError` or a usage error is printed as one line,
``plugrl: error: <message>``, with exit code 2; ``-vv`` also prints the traceback.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import sys
import traceback
from typing import Any

import click

from plugrl.errors import ConfigError, PlugrlError

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

# Verbosity of the running command (``-v`` count), read by main() to decide on tracebacks.
_verbosity = 0


def _set_verbosity(ctx: click.Context, param: click.Parameter, value: int) -> int:
    global _verbosity
    _verbosity = value or 0
    if _verbosity:
        import logging

        level = logging.DEBUG if _verbosity >= 2 else logging.INFO
        logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        logging.getLogger("plugrl").setLevel(level)
    return _verbosity


verbose_option = click.option(
    "-v",
    "--verbose",
    count=True,
    expose_value=True,
    callback=_set_verbosity,
    is_eager=True,
    help="-v: log INFO; -vv: log DEBUG and show tracebacks of errors.",
)


def log_level_name(verbosity: int) -> str | None:
    """The config ``log_level`` for a ``-v`` count, or None to keep the config's own."""
    return {0: None, 1: "INFO"}.get(verbosity, "DEBUG")


def parse_json_option(flag: str, value: str | None) -> dict[str, Any]:
    """Parse a ``--flag JSON`` value that must be an object; errors name the flag and position."""
    if value is None or not value.strip():
        return {}
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{flag} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} "
            f"(char {exc.pos}) in {value!r}. Example: {flag} '{{\"key\": 1}}'."
        ) from None
    if not isinstance(parsed, dict):
        raise ConfigError(f"{flag} must be a JSON object like '{{\"key\": 1}}', got {value!r}.")
    return parsed


def next_steps(logdir: str, checkpoint: str | None) -> list[str]:
    """Where a finished run's results are, and the commands that show them."""
    lines = [f"Results: {logdir}"]
    if checkpoint:
        lines.append(f"Checkpoint: {checkpoint}")
    commands = []
    if _has_command("plot"):
        commands.append(f"plugrl plot {shlex.quote(logdir)}")
    tensorboard = f"tensorboard --logdir {shlex.quote(logdir)}"
    if importlib.util.find_spec("tensorboard") is None:
        tensorboard += "   (pip install 'plugrl[tensorboard]')"
    commands.append(tensorboard)
    if checkpoint:
        commands.append(f"plugrl rollout {shlex.quote(checkpoint)}")
    return [*lines, "Next:", *(f"  {command}" for command in commands)]


def _has_command(name: str) -> bool:
    """Whether the running ``plugrl`` has the subcommand ``name`` (a plugin may add it)."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root().command if ctx else None
    return isinstance(root, click.Group) and name in root.commands


EXAMPLES = """
\b
Examples:
  plugrl train --run PPO --env CartPole-v1 --stop '{"episode_reward_mean": 450}'
  plugrl train -f cartpole-ppo.yaml          (a tuned example: see tuned_examples/)
  plugrl rollout RUN_FOLDER/checkpoint_000010 --episodes 5
  plugrl plot RUN_FOLDER                     (learning curves)
  plugrl config PPO                          (PPO's config keys and defaults)
  plugrl plugins                             (installed algorithms, frameworks, envs)

\b
`plugrl COMMAND --help` describes a command and its options.
"""


def build_cli() -> click.Group:
    """The root group with every command that plugins register."""
    from plugrl import __version__
    from plugrl.plugins import get_plugin_manager

    @click.group(
        name="plugrl",
        context_settings={"help_option_names": ["-h", "--help"]},
        epilog=EXAMPLES,
    )
    @click.version_option(__version__, prog_name="plugrl")
    def cli() -> None:
        """plugrl: train, roll out and inspect RL agents; algorithms come from plugins."""

    get_plugin_manager().hook.register_commands(cli=cli)
    return cli


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def _error(message: str) -> None:
    click.echo(f"plugrl: error: {_one_line(message)}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``plugrl`` console script; exits with the command's status."""
    global _verbosity
    _verbosity = 0
    try:
        cli = build_cli()
        status = cli.main(args=argv, prog_name="plugrl", standalone_mode=False)
    except PlugrlError as exc:
        if _verbosity >= 2:
            traceback.print_exc()
        _error(str(exc))
        sys.exit(EXIT_ERROR)
    except click.exceptions.Abort:
        click.echo("plugrl: aborted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        message = exc.format_message()
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:
            message += f" (see: {ctx.command_path} --help)"
        _error(message)
        sys.exit(EXIT_ERROR if isinstance(exc, click.UsageError) else exc.exit_code)
    except KeyboardInterrupt:
        click.echo("plugrl: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(status if isinstance(status, int) else 0)


if __name__ == "__main__":
    main()
