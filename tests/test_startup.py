"""Start-up stays light: importing plugrl or any plugin's entry point, building the CLI, and
every CLI answer that needs no trainer (help, `plugins`, argument errors) import no framework
(torch, TensorFlow, Ray) and none of the kernel's heavy libraries (numpy, gymnasium, pydantic).
The times themselves are measured by benchmarks/startup.py."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

HEAVY = ("torch", "tensorflow", "ray", "numpy", "gymnasium", "pydantic")


def _run(code: str) -> tuple[list[str], str]:
    """Run ``code`` in a fresh Python: the HEAVY modules it imported, and its output."""
    report = f"\nimport json, sys\nprint(json.dumps(sorted(set({HEAVY!r}) & set(sys.modules))))"
    proc = subprocess.run(
        [sys.executable, "-c", code + report], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    *output, imported = proc.stdout.splitlines()
    return json.loads(imported), "\n".join(output) + proc.stderr


def test_import_plugrl_imports_only_what_it_needs():
    code = (
        "import sys, plugrl\n"
        "extra = sorted(m for m in sys.modules if m.startswith('plugrl.'))\n"
        "assert extra == ['plugrl.lazy'], extra\n"
    )
    assert _run(code)[0] == []


def test_submodules_are_reached_through_the_lazy_packages():
    import plugrl
    import plugrl_ppo

    assert plugrl.sample_batch.SampleBatch is plugrl.SampleBatch
    assert plugrl_ppo.config.DEFAULT_CONFIG is plugrl_ppo.DEFAULT_CONFIG
    with pytest.raises(AttributeError, match="no attribute 'sample_batches'"):
        plugrl.sample_batches  # noqa: B018


@pytest.mark.parametrize("name", sorted(ep.name for ep in entry_points(group="plugrl")))
def test_a_plugin_entry_point_imports_nothing_heavy(name):
    code = (
        "from importlib.metadata import entry_points\n"
        f"(ep,) = entry_points(group='plugrl', name={name!r})\n"
        "ep.load()\n"
    )
    assert _run(code)[0] == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--help"], "Commands:"),
        (["--version"], "plugrl, version"),
        (["plugins"], "algorithms: PPO"),
        (["plugins", "--json"], '"failures": []'),
        (["train", "--help"], "--config-file"),
        (["rollout", "--help"], "--episodes"),
        (["plot", "--help"], "Usage: plugrl plot"),
        (["config", "--help"], "Usage: plugrl config"),
        (["train", "--run", "PPOO", "--env", "CartPole-v1"], "Did you mean: 'PPO'?"),
        (["train", "--run", "PPO", "--config", "{bad"], "--config is not valid JSON"),
        (["config", "PPOO"], "Did you mean: 'PPO'?"),
        (["bogus"], "No such command 'bogus'"),
    ],
)
def test_the_cli_answers_without_heavy_imports(args, expected):
    code = (
        "from plugrl.cli.main import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
    )
    imported, output = _run(code)
    assert expected in output
    assert imported == []


def test_a_torch_trainer_never_imports_dynamo():
    """torch.optim's optimizers import ``torch._dynamo`` (about 1.5 s and 75 MiB); plugrl's
    Adam does not, through building, training, saving and restoring (plugrl_torch.optim)."""
    code = (
        "import sys, tempfile\n"
        "from plugrl_ppo import PPOTrainer\n"
        "config = {'env': 'CartPole-v1', 'framework': 'torch', 'train_batch_size': 64,\n"
        "          'sgd_minibatch_size': 32, 'num_sgd_iter': 1, 'rollout_fragment_length': 64}\n"
        "with tempfile.TemporaryDirectory() as logdir:\n"
        "    trainer = PPOTrainer(config=config, logdir=logdir)\n"
        "    trainer.train()\n"
        "    trainer.restore(trainer.save(logdir))\n"
        "    trainer.stop()\n"
        "print('dynamo imported:', 'torch._dynamo' in sys.modules)\n"
    )
    assert "dynamo imported: False" in _run(code)[1].splitlines()
