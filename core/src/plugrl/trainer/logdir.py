"""Where results go: ``<root>/<experiment>/<Trainer>_<env>_<time>/``."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path

from plugrl.jsonable import to_jsonable

RESULTS_ROOT_ENV = "PLUGRL_RESULTS_DIR"


def results_root() -> Path:
    """``$PLUGRL_RESULTS_DIR`` or ``~/plugrl_results``."""
    return Path(os.environ.get(RESULTS_ROOT_ENV, "~/plugrl_results")).expanduser()


def make_logdir(
    trainer_name: str, env_name: str, local_dir: str | None = None, experiment: str = "default"
) -> Path:
    """A new, unique run folder."""
    parent = (Path(local_dir).expanduser() if local_dir else results_root()) / experiment
    parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    safe_env = env_name.replace("/", "_")
    return Path(tempfile.mkdtemp(prefix=f"{trainer_name}_{safe_env}_{stamp}_", dir=parent))


def write_params(logdir: Path, config: dict) -> None:
    (logdir / "params.json").write_text(json.dumps(to_jsonable(config), indent=2, sort_keys=True))
