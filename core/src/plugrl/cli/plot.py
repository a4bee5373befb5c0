"""``plugrl plot``: learning curves of one or more trials, overlaid, drawn to an image file.

One subplot per result key; one line per trial, labelled by the config values that differ
between the trials (``lr=0.001``), or by its folder name when none do. Drawn with matplotlib's
Agg canvas: no display needed.
"""

from __future__ import annotations

import json
import numbers
import reprlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from plugrl.errors import PluginError, ResultsError, did_you_mean
from plugrl.jsonable import flatten
from plugrl.results import Trial, find_trials, read_trial

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEFAULT_KEY = "episode_reward_mean"
DEFAULT_X = "timesteps_total"


def _warn(message: str) -> None:
    click.echo(f"plugrl: warning: {message}.", err=True)


@click.command()
@click.argument("results_dirs", nargs=-1, required=True, type=click.Path())
@click.option(
    "-k",
    "--key",
    "keys",
    multiple=True,
    metavar="KEY",
    help=f"Result key to plot, one subplot each; repeatable (default: {DEFAULT_KEY}). "
    "Nested keys as info/learner/default_policy/total_loss.",
)
@click.option(
    "-x",
    "--x",
    "x_key",
    default=DEFAULT_X,
    show_default=True,
    metavar="KEY",
    help="Result key for the x axis, e.g. time_total_s or training_iteration.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default="plot.png",
    show_default=True,
    help="Image to write (the format follows the extension: .png, .svg, .pdf).",
)
def plot(results_dirs: tuple[str, ...], keys: tuple[str, ...], x_key: str, output: str) -> int:
    """Plot learning curves of the trials in RESULTS_DIRS (trial folders, or folders holding
    them, such as an experiment folder)."""
    read = [read_trial(path) for path in find_trials(results_dirs)]
    trials = [trial for trial in read if trial.results]
    if not trials:
        raise ResultsError(
            f"No results to plot: the result.json of every trial in {', '.join(results_dirs)} "
            "is empty (train for an iteration first)."
        )
    for trial in read:
        for message in trial.warnings:
            _warn(message)
        if not trial.results:
            _warn(f"{str(trial.path)!r} holds no results yet: left out")
    figure = plot_trials(trials, keys or (DEFAULT_KEY,), x_key)
    out = Path(output).expanduser()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(out, dpi=100)
    except (OSError, ValueError) as exc:
        raise ResultsError(f"Cannot write the plot to {output!r}: {exc}.") from None
    click.echo(f"Plotted {len(trials)} trial(s) to {out}")
    return 0


def plot_trials(trials: Sequence[Trial], keys: Sequence[str], x_key: str = DEFAULT_X) -> Figure:
    """A matplotlib figure: one subplot per key in ``keys``, one line per trial against
    ``x_key``. Keys name flattened result entries (``"info/learner/default_policy/kl"``)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PluginError(
            "plugrl plot needs matplotlib, which is not installed: pip install 'plugrl[plot]'."
        ) from None
    flat = [[flatten(result) for result in trial.results] for trial in trials]
    for key in (x_key, *keys):
        _check_key(key, trials, flat)
    labels = trial_labels(trials)
    figure = Figure(figsize=(8, 0.6 + 2.8 * len(keys)), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(keys), 1, sharex=True, squeeze=False)[:, 0]
    for ax, key in zip(axes, keys, strict=True):
        for trial, results, label in zip(trials, flat, labels, strict=True):
            if not any(key in result for result in results):
                _warn(f"trial {trial.name!r} has no {key!r}: left out of that subplot")
                continue
            points = [(r[x_key], r.get(key)) for r in results if _is_number(r.get(x_key))]
            ax.plot(
                [x for x, _ in points],
                [y if _is_number(y) else float("nan") for _, y in points],
                label=label,
            )
        ax.set_title(key, fontsize="medium")
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel(x_key)
    axes[0].legend(fontsize="small")
    return figure


def trial_labels(trials: Sequence[Trial]) -> list[str]:
    """``"lr=0.001, gamma=0.9"``: the config entries set in every trial whose values differ
    between them; a trial's folder name where that leaves labels empty or alike."""
    configs = [flatten(trial.params) for trial in trials]
    shared = set.intersection(*(set(config) for config in configs)) if configs else set()
    varying = [
        key
        for key in sorted(shared)
        if len({json.dumps(config[key], sort_keys=True) for config in configs}) > 1
    ]
    labels = [", ".join(f"{key}={_format(config[key])}" for key in varying) for config in configs]
    return [
        f"{label} ({trial.name})" if label and labels.count(label) > 1 else label or trial.name
        for trial, label in zip(trials, labels, strict=True)
    ]


def _format(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_key(key: str, trials: Sequence[Trial], flat: list[list[dict]]) -> None:
    """A key must be in some trial's results, and be a number (or null) wherever it is."""
    all_keys = {k for results in flat for result in results for k in result}
    if key not in all_keys:
        nested = sorted(k for k in all_keys if k.startswith(f"{key}/"))
        hint = (
            f" It holds: {', '.join(nested[:6])}{', ...' if len(nested) > 6 else ''}."
            if nested
            else did_you_mean(key, all_keys)
        )
        raise ResultsError(
            f"Key {key!r} is in the results of none of the {len(trials)} trial(s).{hint} "
            "Nested keys are written with '/', e.g. info/learner/default_policy/total_loss."
        )
    for trial, results in zip(trials, flat, strict=True):
        for result in results:
            value = result.get(key)
            if value is not None and not _is_number(value):
                raise ResultsError(
                    f"Key {key!r} is not a number in trial {trial.name!r} "
                    f"(got {reprlib.repr(value)}): "
                    "plot a numeric result key."
                )
