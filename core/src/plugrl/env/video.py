"""Recording episodes as MP4 files with gymnasium's ``RecordVideo`` (``monitor: true`` while
training, ``plugrl rollout --video DIR``); encoding needs moviepy (``pip install
'plugrl[video]'``).

A recorded env must render RGB frames: it is created with ``env_config["render_mode"] =
"rgb_array"``, which a gymnasium id receives as ``gymnasium.make``'s argument and a registered
creator or env class must pass on to its env itself.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np

from plugrl.env.checker import env_label
from plugrl.env.creator import EnvContext
from plugrl.errors import EnvError, PluginError

RENDER_MODE = "rgb_array"


def with_render_mode(ctx: EnvContext) -> EnvContext:
    """``ctx`` with ``render_mode="rgb_array"`` added to its env config."""
    return EnvContext(
        {**ctx, "render_mode": RENDER_MODE}, ctx.worker_index, ctx.vector_index, ctx.num_workers
    )


def record_video(
    env: gym.Env,
    folder: str | Path,
    *,
    name_prefix: str,
    episode_trigger: Callable[[int], bool] | None = None,
) -> gym.Env:
    """``env`` wrapped to record episodes as ``<folder>/<name_prefix>-episode-<n>.mp4``.

    ``episode_trigger(n)`` says whether episode ``n`` (counted from 0) is recorded; by default
    RecordVideo's schedule: episodes 0, 1, 8, 27, 64, ... (the cubes) up to 1000, then every
    1000th. A video is written when its episode ends (the next reset) or the env is closed,
    replacing a file of the same name.

    ``env`` is reset and rendered once here, so that an env that cannot render an RGB frame is
    an :class:`EnvError` at once rather than in the middle of training.
    """
    try:
        import moviepy  # noqa: F401  (RecordVideo encodes with it)
    except ImportError:
        raise PluginError(
            "Recording videos needs moviepy, which is not installed: pip install 'plugrl[video]'."
        ) from None
    _check_renders_rgb(env)
    with warnings.catch_warnings():  # files of the same names are replaced, as documented
        warnings.filterwarnings("ignore", message=".*Overwriting existing videos")
        return gym.wrappers.RecordVideo(
            env, str(folder), episode_trigger=episode_trigger, name_prefix=name_prefix
        )


def _quiet_headless_sdl() -> None:
    """Envs drawn with pygame (classic control) start SDL's video system even for rgb_array;
    without a display SDL then prints driver probing errors, which its dummy driver spares."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def _check_renders_rgb(env: gym.Env) -> None:
    fix = (
        "A gymnasium id gets render_mode='rgb_array' from plugrl; a registered creator or env "
        "class must pass env_config['render_mode'] on to its env."
    )
    if env.render_mode != RENDER_MODE:
        raise EnvError(
            f"{env_label(env)} cannot be recorded: its render_mode is {env.render_mode!r}, "
            f"not 'rgb_array'. {fix}"
        )
    _quiet_headless_sdl()
    env.reset()
    try:
        frame = env.render()
    except Exception as exc:  # pygame missing or without a video driver, a broken render()
        raise EnvError(
            f"{env_label(env)} cannot render a frame to record: {type(exc).__name__}: {exc}"
        ) from exc
    if not (isinstance(frame, np.ndarray) and frame.ndim == 3 and frame.shape[-1] == 3):
        seen = frame.shape if isinstance(frame, np.ndarray) else type(frame).__name__
        raise EnvError(
            f"{env_label(env)} cannot be recorded: render() returned {seen}, not an RGB image "
            f"of shape (height, width, 3). {fix}"
        )
