"""The Ray session remote workers run in: imported only when needed, started on loopback when
plugrl starts it, and shut down when the last worker set using it stops.

A Ray that plugrl starts serves this machine only: its servers listen on 127.0.0.1 (Ray's
single-machine mode). Join a cluster with ``ray_address``; a Ray the user started (with
``ray.init``) is used as it is and never shut down by plugrl.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any

from plugrl.errors import PluginError, WorkerError

logger = logging.getLogger(__name__)

# Off, a Ray started here uses the loopback address only (Ray reads it when imported, into
# ray._private.ray_constants.ENABLE_RAY_CLUSTER; worker processes read it from the env).
_CLUSTER_MODE_VAR = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
_lock = threading.Lock()
_users = 0  # worker sets using a Ray that plugrl started
_started = False


def import_ray() -> Any:
    """Import Ray, or explain how to install it."""
    if "ray" not in sys.modules:
        os.environ.setdefault(_CLUSTER_MODE_VAR, "0")
    try:
        import ray
    except ImportError:
        raise PluginError(
            "num_workers > 0 runs rollout workers on Ray actors, but Ray is not installed: "
            "pip install 'plugrl[ray]' (or set num_workers to 0 to train in this process)."
        ) from None
    return ray


def acquire(address: str | None = None) -> Any:
    """Ray, started (or joined at ``address``) unless it is running; pair with :func:`release`."""
    global _users, _started
    ray = import_ray()
    with _lock:
        if not ray.is_initialized():
            try:
                if address:
                    ray.init(address=address, log_to_driver=False)
                else:
                    _loopback_only(ray)
                    ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
            except Exception as exc:  # Ray's own start-up errors are many and long
                where = f"join the Ray cluster at {address!r}" if address else "start Ray"
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise WorkerError(
                    f"Could not {where}: {type(exc).__name__}: {first}. Check ray_address, or "
                    "set num_workers to 0 to train in this process."
                ) from None
            _started = not address
        if _started:
            _users += 1
    return ray


def _loopback_only(ray: Any) -> None:
    """Make the Ray about to start use 127.0.0.1, also when Ray was imported before plugrl
    could set the variable (a user script that imports ray first)."""
    os.environ[_CLUSTER_MODE_VAR] = "0"
    constants = getattr(getattr(ray, "_private", None), "ray_constants", None)
    if hasattr(constants, "ENABLE_RAY_CLUSTER"):
        constants.ENABLE_RAY_CLUSTER = False


def release() -> None:
    """One user of a Ray that plugrl started is done; the last one shuts it down."""
    global _users, _started
    with _lock:
        if not _started:
            return
        _users = max(0, _users - 1)
        if _users == 0:
            import ray

            ray.shutdown()
            _started = False
            logger.debug("shut down the Ray session plugrl started")
