"""Each Tune trial's results in plugrl's layout, written by the driver as results arrive:
``params.json`` and the registered sinks (``result.json``, ``progress.csv``, TensorBoard)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ray.tune.logger import LoggerCallback

from plugrl.registry import registry
from plugrl.trainer.logdir import write_params


class ResultsCallback(LoggerCallback):
    """Writes every trial's results into its folder, as ``plugrl train`` does for a run.

    The folder is the trial's own on a local (or shared) filesystem, so results can be read
    while trials run; otherwise Tune's staging folder, which Tune uploads.
    """

    def __init__(self) -> None:
        self._sinks: dict[Any, list[Any]] = {}

    def log_trial_start(self, trial: Any) -> None:
        if trial in self._sinks:
            return
        trial.init_local_path()
        folder = _folder(trial)
        write_params(folder, trial.config)
        loggers = registry("loggers")
        self._sinks[trial] = [
            loggers.get(name)(str(folder), trial.config) for name in loggers.names()
        ]

    def log_trial_result(self, iteration: int, trial: Any, result: dict[str, Any]) -> None:
        if trial not in self._sinks:
            self.log_trial_start(trial)
        result = {key: value for key, value in result.items() if key != "config"}
        for sink in self._sinks[trial]:
            sink.on_result(result)

    def log_trial_end(self, trial: Any, failed: bool = False) -> None:
        for sink in self._sinks.pop(trial, []):
            sink.close()


def _folder(trial: Any) -> Path:
    if trial.storage.storage_filesystem.type_name == "local":
        return Path(trial.path)
    return Path(trial.local_path)
