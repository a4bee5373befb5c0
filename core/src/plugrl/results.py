"""Reading trial folders written by training: ``result.json`` (one JSON object a line, one
line per iteration) and ``params.json`` (the trial's config).

A malformed line of ``result.json`` (a run killed mid-write leaves a truncated last line) is
left out and reported in :attr:`Trial.warnings`, so the rest of the curve can still be read;
likewise a missing or malformed ``params.json`` reads as ``{}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plugrl.errors import ResultsError

RESULT_FILE = "result.json"
PARAMS_FILE = "params.json"


@dataclass
class Trial:
    """One trial folder: its results in order, its config, and what was wrong reading them."""

    path: Path
    results: list[dict[str, Any]]
    params: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name


def find_trials(paths: Iterable[str | Path]) -> list[Path]:
    """The trial folders of ``paths``: a path holding ``result.json`` is a trial, any other
    folder is searched (recursively) for trials. Each path must yield at least one."""
    found: list[Path] = []
    for path in paths:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise ResultsError(f"Results folder {str(path)!r} does not exist or is not a folder.")
        if (folder / RESULT_FILE).is_file():
            trials = [folder]
        else:
            trials = sorted(file.parent for file in folder.rglob(RESULT_FILE) if file.is_file())
        if not trials:
            raise ResultsError(
                f"No {RESULT_FILE} in or under {str(path)!r}: pass a trial folder written by "
                "`plugrl train` (e.g. ~/plugrl_results/default/PPO_CartPole-v1_...) or a "
                "folder holding some."
            )
        found += [trial for trial in trials if trial not in found]
    return found


def read_trial(path: str | Path) -> Trial:
    """The results and config of the trial folder ``path``."""
    path = Path(path)
    results: list[dict[str, Any]] = []
    bad_lines: list[int] = []
    result_file = path / RESULT_FILE
    try:
        lines = result_file.read_text().splitlines()
    except OSError as exc:
        raise ResultsError(f"Cannot read {str(result_file)!r}: {exc.strerror or exc}.") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            result = json.loads(line)
        except json.JSONDecodeError:
            result = None
        if isinstance(result, dict):
            results.append(result)
        else:
            bad_lines.append(number)
    warnings = []
    if bad_lines:
        warnings.append(
            f"skipped {len(bad_lines)} malformed line(s) of {str(result_file)!r} "
            f"(line {', '.join(map(str, bad_lines[:5]))}{', ...' if len(bad_lines) > 5 else ''})"
        )
    params, problem = _read_params(path / PARAMS_FILE)
    if problem:
        warnings.append(problem)
    return Trial(path, results, params, warnings)


def _read_params(file: Path) -> tuple[dict[str, Any], str | None]:
    """The config in ``file`` (``{}`` when absent), and what was wrong with it."""
    if not file.is_file():
        return {}, None
    try:
        params = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        return {}, f"ignored {str(file)!r}: {exc}"
    if not isinstance(params, dict):
        return {}, f"ignored {str(file)!r}: it holds no JSON object"
    return params, None
