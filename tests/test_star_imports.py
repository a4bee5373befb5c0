"""Algorithm plugins import no framework until a policy is asked for, and a star-import works
on a machine without TensorFlow (it then brings no TF policy); the kernel's and the
explorations' star-imports bring every public name, though their packages load them lazily."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PLUGINS = {
    "plugrl_ppo": ("PPOTorchPolicy", "PPOTFPolicy"),
    "plugrl_dqn": ("DQNTorchPolicy", "DQNTFPolicy"),
    "plugrl_a3c": ("A3CTorchPolicy", "A3CTFPolicy"),
    "plugrl_marwil": ("MARWILTorchPolicy", "MARWILTFPolicy"),
    "plugrl_pg": ("PGTorchPolicy", "PGTFPolicy"),
}


@pytest.mark.parametrize("package", list(PLUGINS))
def test_star_import_without_tensorflow(package):
    torch_policy, tf_policy = PLUGINS[package]
    code = (
        "import sys; sys.modules['tensorflow'] = None\n"
        f"from {package} import *\n"
        f"assert {tf_policy!r} not in dir() and {torch_policy!r} in dir()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("package", list(PLUGINS))
def test_importing_a_plugin_imports_no_framework(package):
    code = (
        f"import sys, {package}\n"
        "assert not {'torch', 'tensorflow', 'ray'} & set(sys.modules), sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("package", ["plugrl", "plugrl_exploration"])
def test_star_import_brings_every_public_name(package):
    module = importlib.import_module(package)
    namespace: dict = {}
    exec(f"from {package} import *", namespace)
    assert module.__all__ and set(module.__all__) <= namespace.keys()
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchName'"):
        module.NoSuchName  # noqa: B018
