"""Where results go: ``<root>/<experiment>/<Trainer>_<env>_<time>_<random>/``.

A run folder is named when its trainer is built and created when there is something to write
(the first result or checkpoint), so a trainer that never trains leaves nothing on disk.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import datetime
from pathlib import Path

from plugrl.jsonable import to_jsonable

RESULTS_ROOT_ENV = "PLUGRL_RESULTS_DIR"


def results_root() -> Path:
    """``$PLUGRL_RESULTS_DIR`` or ``~/plugrl_results``."""
    return Path(os.environ.get(RESULTS_ROOT_ENV, "~/plugrl_results")).expanduser()


def new_logdir(
    trainer_name: str, env_name: str, local_dir: str | None = None, experiment: str = "default"
) -> Path:
    """A unique run folder's path (a random suffix tells apart runs started in the same
    second); nothing is created."""
    parent = (Path(local_dir).expanduser() if local_dir else results_root()) / experiment
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    safe_env = env_name.replace("/", "_")
    return parent / f"{trainer_name}_{safe_env}_{stamp}_{secrets.token_hex(4)}"


def write_params(logdir: Path, config: dict) -> None:
    """Create ``logdir`` if needed and write the run's config to ``params.json`` in it."""
    logdir.mkdir(parents=True, exist_ok=True)
    (logdir / "params.json").write_text(json.dumps(to_jsonable(config), indent=2, sort_keys=True))
