"""plugrl.export: what cannot be exported or read back says so in one line."""

from __future__ import annotations

import json
import sys

import gymnasium as gym
import numpy as np
import pytest

from plugrl import Policy, build_trainer
from plugrl.errors import PlugrlError
from plugrl.export import ExportedPolicy, ExportError, add_pipeline, import_model
from plugrl.policy import Backend
from plugrl.worker_context import WorkerContext


class FixedPolicy(Policy):
    """A policy written from scratch: always action 0."""

    def compute_actions(self, obs_batch, state_batches=None, **kwargs):
        return [0] * len(obs_batch), [], {}

    def learn_on_batch(self, samples):
        return {}

    def get_weights(self):
        return {}

    def set_weights(self, weights):
        pass


def _spec(tmp_path, **changes):
    spec = {
        "plugrl_export": 1,
        "format": "onnx",
        "file": "model.onnx",
        "outputs": ["dist_inputs"],
        "observation": {"space": {"type": "Box", "shape": [4]}, "filter": {"type": "NoFilter"}},
        "action": {"distribution": "categorical", "space": {"type": "Discrete", "n": 2}},
        **changes,
    }
    (tmp_path / "policy.json").write_text(json.dumps(spec))
    return tmp_path


def test_export_errors_are_plugrl_errors():
    assert issubclass(ExportError, PlugrlError)


def test_a_policy_written_from_scratch_cannot_be_exported(tmp_path):
    trainer = build_trainer(name="Fixed", default_policy=FixedPolicy)(
        config={"env": "CartPole-v1"}, logdir=str(tmp_path)
    )
    with pytest.raises(ExportError, match="FixedPolicy, not a TemplatePolicy"):
        trainer.export_policy_model(str(tmp_path / "export"))
    trainer.stop()


def test_a_backend_without_export_says_so():
    backend = Backend({}, WorkerContext())
    with pytest.raises(ExportError, match="cannot export models"):
        backend.export_model(None, "unused", None)


def test_import_model_needs_a_policy_json(tmp_path):
    with pytest.raises(ExportError, match="holds no policy.json"):
        import_model(tmp_path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"plugrl_export": 99}, "export version 99"),
        ({"format": "pickle"}, "format 'pickle'; known formats: torchscript, onnx, saved_model"),
        ({"file": "../model.onnx"}, "names no model file"),
        ({"outputs": ["value"]}, "has outputs"),
    ],
)
def test_import_model_reads_only_known_formats_and_files(tmp_path, changes, message):
    with pytest.raises(ExportError, match=message):
        import_model(_spec(tmp_path, **changes))


def test_import_model_names_the_missing_runtime(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime fails
    with pytest.raises(ExportError, match="needs onnxruntime: pip install onnxruntime"):
        import_model(_spec(tmp_path))


def test_an_unsupported_observation_space_is_named(tmp_path):
    space = gym.spaces.Tuple([gym.spaces.Discrete(2), gym.spaces.Discrete(3)])
    with pytest.raises(ExportError, match=r"observation space Tuple\(Discrete\(2\)"):
        add_pipeline(_spec(tmp_path), space, None, normalize_actions=False, clip_actions=False)


def test_discrete_observations_are_one_hot_and_multi_discrete_actions_split():
    spec = {
        "observation": {
            "space": {"type": "Discrete", "n": 3, "start": 1},
            "filter": {"type": "NoFilter"},
        },
        "action": {
            "distribution": "multi_categorical",
            "space": {"type": "MultiDiscrete", "nvec": [2, 3]},
            "normalize": False,
            "clip": False,
        },
    }
    seen = []

    def forward(obs):
        seen.append(obs)
        return {"dist_inputs": np.array([[0.1, 0.9, 0.5, 0.2, 0.7]] * len(obs), np.float32)}

    policy = ExportedPolicy(spec, forward)
    np.testing.assert_array_equal(policy.compute_single_action(3), [1, 2])
    np.testing.assert_array_equal(seen[0], [[0.0, 0.0, 1.0]])
    with pytest.raises(ExportError, match=r"must be in \[1, 4\); got \[0\]"):
        policy.compute_actions([0])


def test_box_actions_are_the_mean_rescaled_and_clipped():
    box = {"type": "Box", "shape": [1], "dtype": "float32", "low": [-2.0], "high": [2.0]}
    spec = {
        "observation": {"space": {"type": "Box", "shape": [1]}, "filter": {"type": "NoFilter"}},
        "action": {"distribution": "diag_gaussian", "space": box, "normalize": True, "clip": True},
    }
    policy = ExportedPolicy(spec, lambda obs: {"dist_inputs": np.c_[obs, np.zeros_like(obs)]})
    np.testing.assert_allclose(
        policy.compute_actions([[0.5], [3.0], [-0.25]]), [[1.0], [2.0], [-0.5]]
    )
