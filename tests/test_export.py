"""Exported policies act as their trainer does: TorchScript, ONNX and SavedModel exports of PPO
(on vectors and images) and DQN, read back by plugrl/export.py alone in a process that imports
no plugrl module."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import plugrl.export
from plugrl.env.examples import BrightSquareEnv
from plugrl.export import ExportError, import_model
from plugrl_dqn import DQNTrainer
from plugrl_dqn.testing import TINY_CONFIG as DQN_TINY_CONFIG
from plugrl_ppo import PPOTorchPolicy, PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG

IMAGES = {**TINY_CONFIG, "env": BrightSquareEnv, "model": {"fcnet_hiddens": [8]}}
PENDULUM = {"env": "Pendulum-v1", "observation_filter": "MeanStdFilter", "normalize_actions": True}
TORCH_CASES = {
    "ppo-cartpole": (PPOTrainer, TINY_CONFIG, {"torchscript": None, "onnx": 18}),
    "ppo-pendulum-meanstd": (
        PPOTrainer,
        {**TINY_CONFIG, **PENDULUM},
        {"torchscript": None, "onnx": 18},
    ),
    "dqn-cartpole": (DQNTrainer, DQN_TINY_CONFIG, {"torchscript": None}),
    "ppo-images": (PPOTrainer, IMAGES, {"torchscript": None, "onnx": 18}),
}
"""Case -> (trainer class, config, formats to export: name -> ``onnx``)."""
TF_CASES = {
    "ppo-cartpole": (PPOTrainer, TINY_CONFIG, {"saved_model": None}),
    "ppo-pendulum-meanstd-traced": (
        PPOTrainer,
        {**TINY_CONFIG, **PENDULUM, "eager_tracing": True},
        {"saved_model": None},
    ),
    "ppo-images": (PPOTrainer, IMAGES, {"saved_model": None}),
}

READ_BACK = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("policy_loader", sys.argv[1])
loader = importlib.util.module_from_spec(spec)
spec.loader.exec_module(loader)
requests = json.load(sys.stdin)
actions = {d: loader.import_model(d).compute_actions(obs).tolist() for d, obs in requests.items()}
print(json.dumps({"actions": actions, "plugrl": [m for m in sys.modules if "plugrl" in m]}))
"""


def _read_back(requests: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The greedy actions of each export (folder -> observations), from one fresh process that
    loads plugrl/export.py on its own."""
    proc = subprocess.run(
        [sys.executable, "-c", READ_BACK, plugrl.export.__file__],
        input=json.dumps({d: obs.tolist() for d, obs in requests.items()}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["plugrl"] == []
    return {d: np.asarray(actions) for d, actions in out["actions"].items()}


def _export_and_read_back(cases: dict, framework: str, root) -> dict:
    """For each case: train one iteration, export in each format and take the trainer's greedy
    actions on 20 observations; then read every export back. Returns case -> (the trainer's
    actions, {format: the export's actions})."""
    expected, requests = {}, {}
    for case, (trainer_class, config, formats) in cases.items():
        trainer = trainer_class(config={**config, "framework": framework}, logdir=str(root / case))
        trainer.train()
        space = trainer.workers.local_worker().env.observation_space
        rng = np.random.default_rng(0)
        if space.dtype == np.uint8:  # pixels, as float32 values the export takes too
            obs = rng.integers(0, 256, size=(20, *space.shape)).astype(np.float32)
        else:
            obs = rng.normal(size=(20, *space.shape)).astype(np.float32)
        for name, onnx in formats.items():
            trainer.export_policy_model(str(root / case / name), onnx=onnx)
            requests[str(root / case / name)] = obs
        expected[case] = np.asarray([trainer.compute_single_action(o, explore=False) for o in obs])
        trainer.stop()
    got = _read_back(requests)
    return {
        case: (expected[case], {name: got[str(root / case / name)] for name in formats})
        for case, (_, _, formats) in cases.items()
    }


@pytest.fixture(scope="module")
def torch_exports(tmp_path_factory):
    return _export_and_read_back(TORCH_CASES, "torch", tmp_path_factory.mktemp("torch"))


@pytest.fixture(scope="module")
def tf_exports(tmp_path_factory):
    return _export_and_read_back(TF_CASES, "tf", tmp_path_factory.mktemp("tf"))


def _assert_same_actions(expected: np.ndarray, got: dict[str, np.ndarray]) -> None:
    """Exactly for discrete actions, closely for Box actions."""
    for name, actions in got.items():
        if expected.dtype.kind == "f":
            np.testing.assert_allclose(actions, expected, rtol=1e-5, atol=1e-6, err_msg=name)
        else:
            np.testing.assert_array_equal(actions, expected, err_msg=name)


@pytest.mark.parametrize("case", TORCH_CASES)
def test_torch_exports_act_as_the_trainer(torch_exports, case):
    _assert_same_actions(*torch_exports[case])


@pytest.mark.parametrize("case", TF_CASES)
def test_tf_exports_act_as_the_trainer(tf_exports, case):
    _assert_same_actions(*tf_exports[case])


def test_import_model_gives_values_and_single_actions(tmp_path):
    trainer = PPOTrainer(config={**TINY_CONFIG, "framework": "torch"}, logdir=str(tmp_path))
    trainer.export_policy_model(str(tmp_path / "export"))
    exported = import_model(tmp_path / "export")
    obs = np.array([0.01, 0.2, -0.03, 0.1], dtype=np.float32)
    action, _, extra = trainer.compute_single_action(obs, explore=False, full_fetch=True)
    assert exported.compute_single_action(obs) == action and isinstance(action, int)
    np.testing.assert_allclose(exported.forward([obs])["value"], [extra["vf_preds"]], rtol=1e-6)
    trainer.stop()


def test_a_q_network_is_exported_without_a_value_output(tmp_path):
    trainer = DQNTrainer(config={**DQN_TINY_CONFIG, "framework": "torch"}, logdir=str(tmp_path))
    trainer.export_policy_model(str(tmp_path / "export"))
    assert import_model(tmp_path / "export").spec["outputs"] == ["dist_inputs"]
    trainer.stop()


def test_export_formats_the_backend_cannot_write_are_refused(tmp_path):
    torch_trainer = PPOTrainer(config={**TINY_CONFIG, "framework": "torch"}, logdir=str(tmp_path))
    with pytest.raises(ExportError, match="opset 18 or later; pass onnx=18"):
        torch_trainer.export_policy_model(str(tmp_path / "old_onnx"), onnx=11)
    torch_trainer.stop()
    tf_trainer = PPOTrainer(config={**TINY_CONFIG, "framework": "tf"}, logdir=str(tmp_path))
    with pytest.raises(ExportError, match="exports a SavedModel only"):
        tf_trainer.export_policy_model(str(tmp_path / "tf_onnx"), onnx=18)
    tf_trainer.stop()


def test_a_policy_acting_through_its_own_sampler_is_not_exported(tmp_path):
    def sampler(policy, model, input_dict, state, explore, timestep):
        raise AssertionError("not called")

    policy_class = PPOTorchPolicy.with_updates(name="Sampling", action_sampler_fn=sampler)
    trainer = PPOTrainer.with_updates(default_policy=policy_class)(
        config={**TINY_CONFIG, "framework": "torch"}, logdir=str(tmp_path)
    )
    with pytest.raises(ExportError, match="acts with its action_sampler_fn"):
        trainer.export_policy_model(str(tmp_path / "export"))
    trainer.stop()
