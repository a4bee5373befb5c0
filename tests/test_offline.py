"""The seed's offline flow at small scale: plugrl train writes rolled experience files; DQN
trains from them (exploration off), estimates its value with IS and WIS under SoftQ, and
mixes them with the sampler; the columns the seed lists; a checkpoint's output is not used."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from plugrl import OfflineDataError
from plugrl.checkpoint.config import trusted_config
from plugrl.cli.main import main
from plugrl.offline import JsonReader
from plugrl_dqn import DQNTrainer
from plugrl_dqn.testing import TINY_CONFIG as DQN_TINY
from plugrl_ppo.testing import TINY_CONFIG as PPO_TINY

SEED_COLUMNS = {
    "t",
    "eps_id",
    "agent_index",
    "obs",
    "actions",
    "rewards",
    "prev_actions",
    "prev_rewards",
    "dones",
    "infos",
    "new_obs",
    "action_prob",
    "action_logp",
    "unroll_id",
    "advantages",
    "value_targets",
}


@pytest.fixture(scope="module")
def ppo_output(tmp_path_factory) -> Path:
    """Files written by `plugrl train --run PPO` with output and a small output_max_file_size."""
    root = tmp_path_factory.mktemp("offline")
    out = root / "cartpole-out"
    config = {**PPO_TINY, "output": str(out), "output_max_file_size": 50_000}
    del config["env"]
    args = [
        "train",
        "--run",
        "PPO",
        "--env",
        "CartPole-v1",
        "--config",
        json.dumps(config),
        "--stop",
        '{"timesteps_total": 1500}',
        "--local-dir",
        str(root / "results"),
    ]
    with pytest.raises(SystemExit) as exit_info:  # the CLI in-process, as a user runs it
        main(args)
    assert exit_info.value.code in (0, None)
    return out


def test_train_writes_rolled_files_with_the_seeds_columns(ppo_output):
    files = sorted(p.name for p in ppo_output.iterdir())
    assert len(files) >= 2, files
    assert all(re.fullmatch(r"output-[\d_-]+_worker-0_\d+\.json", f) for f in files), files
    line = json.loads((ppo_output / files[0]).read_text().splitlines()[0])
    assert isinstance(line["obs"], dict) and "lz4" in line["obs"]  # compressed by default
    batch = JsonReader(str(ppo_output)).next()
    assert set(batch) >= SEED_COLUMNS, SEED_COLUMNS - set(batch)
    # prev_actions / prev_rewards are the previous row's within an episode, 0 at its start
    episode = max(batch.split_by_episode(), key=lambda e: e.count)
    assert episode.count > 1
    np.testing.assert_array_equal(episode["prev_actions"][1:], episode["actions"][:-1])
    np.testing.assert_allclose(episode["prev_rewards"][1:], episode["rewards"][:-1])
    starts = batch["t"] == 0
    assert not batch["prev_actions"][starts].any() and not batch["prev_rewards"][starts].any()


def dqn(tmp_path: Path, **config) -> DQNTrainer:
    return DQNTrainer(config={**DQN_TINY, **config}, logdir=str(tmp_path))


def test_dqn_trains_from_the_files(ppo_output, tmp_path):
    trainer = dqn(tmp_path, input=str(ppo_output), explore=False, input_evaluation=[])
    try:
        for _ in range(2):
            result = trainer.train()
    finally:
        trainer.stop()
    assert result["info"]["num_steps_trained"] > 0
    assert np.isfinite(result["info"]["learner"]["default_policy"]["mean_q"])
    assert result["episodes_this_iter"] == 0  # no env was stepped
    assert result["off_policy_estimator"] == {}


def test_is_and_wis_estimates_with_softq(ppo_output, tmp_path):
    trainer = dqn(
        tmp_path,
        input=str(ppo_output),
        input_evaluation=["is", "wis"],
        exploration_config={"type": "SoftQ", "temperature": 1.0},
    )
    try:
        result = trainer.train()
    finally:
        trainer.stop()
    estimates = result["off_policy_estimator"]
    assert set(estimates) == {"is", "wis"}
    assert set(estimates["is"]) == {"V_prev", "V_step_IS", "V_gain_est"}
    assert set(estimates["wis"]) == {"V_prev", "V_step_WIS", "V_gain_est"}
    assert all(np.isfinite(v) for e in estimates.values() for v in e.values())
    assert estimates["is"]["V_prev"] > 1.0  # discounted returns of CartPole episodes


def test_mixing_the_files_with_the_sampler(ppo_output, tmp_path):
    trainer = dqn(
        tmp_path,
        input={"sampler": 0.5, str(ppo_output): 0.5},
        timesteps_per_iteration=400,
    )
    try:
        result = trainer.train()
    finally:
        trainer.stop()
    assert result["episodes_this_iter"] > 0  # only the sampler's draws play episodes
    assert set(result["off_policy_estimator"]) == {"is", "wis"}  # only the files' are estimated
    assert result["info"]["num_steps_trained"] > 0


def test_simulation_plays_episodes_beside_the_files(ppo_output, tmp_path):
    trainer = dqn(
        tmp_path,
        input=str(ppo_output),
        input_evaluation=["simulation"],
        rollout_fragment_length=100,  # env steps played per batch read
    )
    try:
        result = trainer.train()
    finally:
        trainer.stop()
    assert result["episodes_this_iter"] > 0
    assert result["off_policy_estimator"] == {}


def test_input_errors_name_the_problem(tmp_path):
    with pytest.raises(OfflineDataError, match="does not exist"):
        dqn(tmp_path, input=str(tmp_path / "missing"))


def test_a_checkpoints_output_folder_is_not_used(tmp_path):
    with pytest.warns(UserWarning, match="output"):
        config = trusted_config(
            {"env": "CartPole-v1", "output": "/somewhere/else", "input": "sampler"}, {}, "ckpt"
        )
    assert "output" not in config
    assert config["input"] == "sampler"  # the default names no data or code: kept


def test_a_shuffle_buffer_mixes_rows_after_each_episode_is_postprocessed(ppo_output, tmp_path):
    from plugrl_marwil import MARWILTrainer

    trainer = MARWILTrainer(
        config={
            "env": "CartPole-v1",
            "input": str(ppo_output),
            "shuffle_buffer_size": 1000,
            "input_evaluation": ["is"],
            "train_batch_size": 256,
            "model": {"fcnet_hiddens": [8]},
            "seed": 0,
        },
        logdir=str(tmp_path),
    )
    try:
        batch = trainer.workers.local_worker().sample()
        result = trainer.train()
    finally:
        trainer.stop()
    # rows of many episodes, each with the return of its whole episode (not of 1-3 rows)
    assert len(np.unique(batch["eps_id"])) > 5
    assert batch["value_targets"].max() > 10
    assert "is" in result["off_policy_estimator"]
