"""Trainer.compute_action(s): the workers' pipeline (preprocessor, filter, action rescaling)."""

from __future__ import annotations

import numpy as np

from plugrl_ppo import PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG


def test_compute_action_filters_like_the_workers_without_updating(tmp_path):
    trainer = PPOTrainer(
        config={**TINY_CONFIG, "observation_filter": "MeanStdFilter"}, logdir=str(tmp_path)
    )
    trainer.train()
    local = trainer.workers.local_worker()
    seen = local.filters["default_policy"].rs.n
    obs = np.array([0.01, 0.2, -0.03, 0.1], dtype=np.float32)
    action = trainer.compute_action(obs, explore=False)
    assert local.filters["default_policy"].rs.n == seen
    filtered = local.filters["default_policy"](obs, update=False)
    expected, _, _ = trainer.get_policy().compute_single_action(filtered, explore=False)
    assert action == expected and isinstance(action, int)
    many = trainer.compute_actions({"a": obs, "b": -obs}, explore=False)
    assert many["a"] == action and set(many) == {"a", "b"}
    full = trainer.compute_action(obs, explore=False, full_fetch=True)
    assert full[0] == action and "vf_preds" in full[2]
    trainer.stop()


def test_compute_action_rescales_box_actions(tmp_path):
    config = {**TINY_CONFIG, "env": "Pendulum-v1", "normalize_actions": True}
    trainer = PPOTrainer(config=config, logdir=str(tmp_path))
    obs = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    action = trainer.compute_action(obs, explore=False)
    mean, _, _ = trainer.get_policy().compute_single_action(obs, explore=False)
    np.testing.assert_allclose(action, -2.0 + (np.clip(mean, -1, 1) + 1.0) * 2.0, rtol=1e-5)
    trainer.stop()
