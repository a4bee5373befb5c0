"""``num_gpus``: the learner on ``cuda:0`` for each torch algorithm, checkpoints across the CPU
and the GPU, and exports from a GPU policy. Skipped without a CUDA device (run them on one)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from plugrl.export import import_model
from plugrl_a3c import A2CTrainer
from plugrl_a3c.testing import TINY_CONFIG as A2C_TINY
from plugrl_dqn import DQNTrainer
from plugrl_dqn.testing import TINY_CONFIG as DQN_TINY
from plugrl_pg import PGTrainer
from plugrl_pg.testing import TINY_CONFIG as PG_TINY
from plugrl_ppo import PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG as PPO_TINY

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

LSTM = {"fcnet_hiddens": [8], "use_lstm": True, "lstm_cell_size": 6, "max_seq_len": 5}
CASES = {
    "ppo": (PPOTrainer, PPO_TINY),
    "ppo, Pendulum": (PPOTrainer, {**PPO_TINY, "env": "Pendulum-v1"}),
    "ppo, lstm": (PPOTrainer, {**PPO_TINY, "model": LSTM}),
    "dqn": (DQNTrainer, DQN_TINY),
    "dqn, distributional, 3-step": (
        DQNTrainer,
        {**DQN_TINY, "num_atoms": 5, "v_min": -10.0, "v_max": 10.0, "n_step": 3},
    ),
    "dqn, parameter noise": (
        DQNTrainer,
        {**DQN_TINY, "exploration_config": {"type": "ParameterNoise", "random_timesteps": 0}},
    ),
    "pg": (PGTrainer, PG_TINY),
    "a2c": (A2CTrainer, A2C_TINY),
    "a2c, microbatches (gradients through numpy)": (
        A2CTrainer,
        {**A2C_TINY, "microbatch_size": 32},
    ),
}


def _devices(tensors) -> set[str]:
    return {t.device.type for t in tensors}


def _optimizer_devices(policy) -> set[str]:
    """Where each optimizer's state lives (Adam's step counts too: fused Adam keeps them with
    the weights)."""
    return {
        value.device.type
        for optimizer in policy.optimizers
        for state in optimizer.state.values()
        for value in state.values()
        if isinstance(value, torch.Tensor)
    }


@pytest.mark.parametrize("case", CASES)
def test_the_learner_trains_on_the_gpu(case, tmp_path):
    trainer_class, config = CASES[case]
    trainer = trainer_class(config={**config, "num_gpus": 1}, logdir=str(tmp_path))
    try:
        policy = trainer.get_policy()
        assert _devices(policy.model.parameters()) == {"cuda"}
        before = policy.get_weights()
        for _ in range(3):
            result = trainer.train()
        stats = result["info"]["learner"]["default_policy"]
        assert stats and all(np.isfinite(v) for v in stats.values()), stats
        after = policy.get_weights()
        assert any(not np.array_equal(before[k], after[k]) for k in before), "nothing learned"
        assert _optimizer_devices(policy) == {"cuda"}
        if hasattr(policy, "target_model"):
            assert _devices(policy.target_model.model.parameters()) == {"cuda"}
        env = gym.make(config["env"])
        obs, _ = env.reset(seed=0)
        state = policy.get_initial_state()
        action = trainer.compute_single_action(obs, state=state or None)
        action = action[0] if state else action
        assert env.action_space.contains(np.asarray(action, env.action_space.dtype))
    finally:
        trainer.stop()


@pytest.mark.parametrize("direction", ["gpu to cpu", "cpu to gpu"])
def test_checkpoints_move_between_the_cpu_and_the_gpu(direction, tmp_path):
    gpus = (1, 0) if direction == "gpu to cpu" else (0, 1)
    first = PPOTrainer(config={**PPO_TINY, "num_gpus": gpus[0]}, logdir=str(tmp_path / "a"))
    try:
        first.train()
        path = first.save(str(tmp_path / "checkpoints"))
        weights = first.get_policy().get_weights()
    finally:
        first.stop()
    second = PPOTrainer(config={**PPO_TINY, "num_gpus": gpus[1]}, logdir=str(tmp_path / "b"))
    try:
        second.restore(path)
        policy = second.get_policy()
        for name, value in policy.get_weights().items():
            np.testing.assert_array_equal(value, weights[name], err_msg=name)
        device = "cuda" if gpus[1] else "cpu"
        assert _devices(policy.model.parameters()) == {device}
        assert _optimizer_devices(policy) == {device}
        assert second.train()["training_iteration"] == 2
    finally:
        second.stop()


def test_a_gpu_policy_exports_a_model_that_runs_on_the_cpu(tmp_path):
    trainer = PPOTrainer(config={**PPO_TINY, "num_gpus": 1}, logdir=str(tmp_path / "run"))
    try:
        trainer.train()
        trainer.export_policy_model(str(tmp_path / "export"))
        obs = np.asarray([[0.01, -0.02, 0.03, 0.04]], np.float32)
        expected = trainer.compute_single_action(obs[0], explore=False)
    finally:
        trainer.stop()
    exported = import_model(tmp_path / "export")
    assert exported.compute_actions(obs).tolist() == [expected]
