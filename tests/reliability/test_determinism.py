"""Seeded runs repeat bit for bit: two trainers in one process, and a run in another process,
for PPO, DQN and A2C on torch; evaluation, in a thread beside training or after it, leaves
training's draws alone; a checkpoint restores the learning state exactly."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from plugrl import get_trainer_class
from plugrl_a3c.testing import TINY_CONFIG as A2C_TINY
from plugrl_dqn.testing import TINY_CONFIG as DQN_TINY
from plugrl_ppo.testing import TINY_CONFIG as PPO_TINY

CONFIGS = {"PPO": PPO_TINY, "DQN": DQN_TINY, "A2C": A2C_TINY}

FINGERPRINT = textwrap.dedent(
    """
    import hashlib, json, sys, tempfile
    import numpy as np
    from plugrl import get_trainer_class

    algorithm, config = sys.argv[1], json.loads(sys.argv[2])
    trainer = get_trainer_class(algorithm)(config=config, logdir=tempfile.mkdtemp())
    rewards = [trainer.train()["episode_reward_mean"] for _ in range(2)]
    weights = trainer.get_weights()["default_policy"]
    digest = hashlib.sha256(b"".join(weights[k].tobytes() for k in sorted(weights)))
    trainer.stop()
    print(json.dumps({"rewards": rewards, "weights": digest.hexdigest()}))
    """
)


def _fingerprint(algorithm: str, tmp_path, **overrides) -> dict:
    config = {**CONFIGS[algorithm], **overrides}
    trainer = get_trainer_class(algorithm)(config=config, logdir=str(tmp_path))
    try:
        rewards = [trainer.train()["episode_reward_mean"] for _ in range(2)]
        weights = trainer.get_weights()["default_policy"]
    finally:
        trainer.stop()
    digest = hashlib.sha256(b"".join(weights[k].tobytes() for k in sorted(weights)))
    return {"rewards": rewards, "weights": digest.hexdigest()}


@pytest.mark.parametrize("algorithm", list(CONFIGS))
def test_same_seed_same_run_in_this_process_and_another(algorithm, tmp_path):
    first = _fingerprint(algorithm, tmp_path / "first")
    second = _fingerprint(algorithm, tmp_path / "second")
    assert first == second
    other = subprocess.run(
        [sys.executable, "-c", FINGERPRINT, algorithm, json.dumps(CONFIGS[algorithm])],
        capture_output=True,
        text=True,
    )
    assert other.returncode == 0, other.stderr[-2000:]
    assert json.loads(other.stdout.strip().splitlines()[-1]) == first


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_evaluation_leaves_the_seeded_training_run_unchanged(framework, tmp_path):
    """Each seeded worker draws its actions from generators of its own, so a local evaluation
    worker, sampling in a thread while training samples or after it, changes nothing in
    training (before, both drew from the process's generators in thread order)."""
    evaluation = {"evaluation_interval": 1, "evaluation_duration": 2}
    runs = [
        _fingerprint("PPO", tmp_path / name, framework=framework, **overrides)
        for name, overrides in (
            ("none", {}),
            ("parallel", {**evaluation, "evaluation_parallel_to_training": True}),
            ("parallel again", {**evaluation, "evaluation_parallel_to_training": True}),
            ("after", evaluation),
        )
    ]
    assert runs[1:] == runs[:1] * 3


@pytest.mark.parametrize(
    "algorithm, framework", [*((name, "torch") for name in CONFIGS), ("PPO", "tf")]
)
def test_a_restore_replaces_every_learning_state(algorithm, framework, tmp_path):
    """A trainer that restores a checkpoint continues exactly as a fresh one that restores it,
    whatever it did before: weights, optimizer moments, schedules, counters, the metrics
    window and the random generators all come from the checkpoint (envs start new episodes
    from the run's seed, as a checkpoint holds no env state). On TF the fresh trainer's first
    step is traced as the used one's is."""
    config = {**CONFIGS[algorithm], "framework": framework}
    trainer_cls = get_trainer_class(algorithm)
    writer = trainer_cls(config=config, logdir=str(tmp_path / "writer"))
    try:
        writer.train()
        path = writer.save()
    finally:
        writer.stop()
    runs = []
    for name, iterations_before in (("fresh", 0), ("used", 2)):
        trainer = trainer_cls(config=config, logdir=str(tmp_path / name))
        try:
            for _ in range(iterations_before):
                trainer.train()
            trainer.restore(path)
            result = trainer.train()
            runs.append((result, trainer.get_weights()["default_policy"]))
        finally:
            trainer.stop()
    (fresh, fresh_weights), (used, used_weights) = runs
    for key in ("episode_reward_mean", "episodes_total", "timesteps_total", "training_iteration"):
        assert fresh[key] == used[key] or (np.isnan(fresh[key]) and np.isnan(used[key])), key
    for name in fresh_weights:
        np.testing.assert_array_equal(fresh_weights[name], used_weights[name])
