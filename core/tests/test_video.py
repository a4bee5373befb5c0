"""Videos: ``monitor: true`` records training episodes into the run folder, ``plugrl rollout
--video DIR`` records the rollout's episodes, and an env that cannot render RGB frames is one
clear error."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import RecordVideo

from plugrl.env.creator import EnvContext, make_env_creator
from plugrl.env.video import record_video, with_render_mode
from plugrl.errors import ConfigError, EnvError, PluginError
from plugrl.sampling.rollout_worker import RolloutWorker
from plugrl.testing import run_cli
from plugrl_pg import PGTorchPolicy, PGTrainer
from plugrl_pg.testing import TINY_CONFIG


def is_mp4(path: Path) -> bool:
    return path.stat().st_size > 1000 and path.read_bytes()[4:8] == b"ftyp"


def test_monitor_records_training_episodes_into_the_run_folder(tmp_path):
    trainer = PGTrainer(config={**TINY_CONFIG, "monitor": True}, logdir=str(tmp_path))
    try:
        trainer.train()
    finally:
        trainer.stop()  # closes the envs: the episode being recorded is written too
    videos = sorted((tmp_path / "videos").iterdir())
    names = [video.name for video in videos]
    assert names[:2] == ["train-episode-0.mp4", "train-episode-1.mp4"]  # then 8, 27, ...
    assert all(is_mp4(video) for video in videos)


def test_only_the_first_env_of_the_sampling_worker_records(tmp_path):
    creator, config = make_env_creator("CartPole-v1"), {**TINY_CONFIG, "monitor": True}
    # (worker_index, num_workers): the local worker samples only when there are no remote ones
    for index, num_workers, recorded in (
        (0, 0, [True, False]),
        (0, 1, [False, False]),
        (1, 1, [True, False]),
    ):
        log_dir = str(tmp_path / f"{index}_of_{num_workers}")
        worker = RolloutWorker(creator, PGTorchPolicy, config, index, num_workers, log_dir=log_dir)
        assert [isinstance(env, RecordVideo) for env in worker.envs] == recorded
        worker.stop()
    with pytest.raises(ConfigError, match="pass log_dir"):
        RolloutWorker(creator, PGTorchPolicy, config)


def test_rollout_video(capsys, tmp_path):
    config = json.dumps({k: v for k, v in TINY_CONFIG.items() if k != "env"})
    code, out, err = run_cli(
        capsys,
        *("train", "--run", "PG", "--env", "CartPole-v1", "--config", config),
        *("--stop", '{"training_iteration": 1}', "--local-dir", str(tmp_path / "results")),
    )
    assert code == 0, err
    (checkpoint,) = (tmp_path / "results").glob("*/*/checkpoint_000001")
    videos = tmp_path / "videos"
    code, out, err = run_cli(
        capsys, "rollout", str(checkpoint), "--episodes", "2", "--video", str(videos)
    )
    assert code == 0, err
    assert f"Videos written to {videos}" in out
    names = sorted(video.name for video in videos.iterdir())
    assert names == ["rollout-episode-0.mp4", "rollout-episode-1.mp4"]
    assert all(is_mp4(video) for video in videos.iterdir())
    assert "not rendering" not in err  # recording replaces on-screen rendering


class NoRender(gym.Env):
    """An env whose creator ignores render_mode."""

    observation_space = gym.spaces.Box(-1, 1, (2,))
    action_space = gym.spaces.Discrete(2)

    def __init__(self, config: dict):
        pass

    def reset(self, *, seed=None, options=None):
        return self.observation_space.sample(), {}

    def step(self, action):
        return self.observation_space.sample(), 0.0, True, False, {}


class GrayRender(NoRender):
    render_mode = "rgb_array"

    def render(self):
        return np.zeros((4, 4), np.uint8)


class NoPygame(NoRender):
    render_mode = "rgb_array"

    def render(self):
        raise gym.error.DependencyNotInstalled("pygame is not installed")


def test_env_that_cannot_render_rgb_is_one_error(tmp_path):
    with pytest.raises(EnvError, match="'NoRender' cannot be recorded: its render_mode is None"):
        PGTrainer(config={**TINY_CONFIG, "env": NoRender, "monitor": True}, logdir=str(tmp_path))
    with pytest.raises(EnvError, match=r"returned \(4, 4\), not an RGB image.*pass env_config"):
        record_video(GrayRender({}), tmp_path, name_prefix="x")
    with pytest.raises(EnvError, match="frame to record: DependencyNotInstalled: pygame is not"):
        record_video(NoPygame({}), tmp_path, name_prefix="x")


def test_render_mode_reaches_gymnasium_make():
    env = make_env_creator("CartPole-v1")(with_render_mode(EnvContext({}, worker_index=2)))
    assert env.render_mode == "rgb_array"


def test_without_moviepy(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "moviepy", None)
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    with pytest.raises(PluginError, match="pip install 'plugrl\\[video\\]'"):
        record_video(env, tmp_path, name_prefix="x")
