"""The Ray that plugrl starts listens on loopback only and is shut down with the last trainer
using it; Ray missing or failing to start is one clear error, and training in-process needs
no Ray at all."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest

from plugrl import PluginError, WorkerError
from plugrl.sampling import ray_session
from plugrl_ppo import PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG

pytestmark = pytest.mark.ray

PROBE = textwrap.dedent(
    """
    import json, subprocess, tempfile
    import ray
    from plugrl_ppo import PPOTrainer
    from plugrl_ppo.testing import TINY_CONFIG

    config = {**TINY_CONFIG, "num_workers": 1}
    first = PPOTrainer(config=config, logdir=tempfile.mkdtemp())
    second = PPOTrainer(config=config, logdir=tempfile.mkdtemp())
    first.train()
    listening = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout
    ray_sockets = [
        line.split()[3] for line in listening.splitlines()
        if any(name in line for name in ("gcs_server", "raylet", "ray::", "RolloutWorker"))
    ]
    first.stop()
    after_first = ray.is_initialized()
    second.stop()
    print(json.dumps({"sockets": ray_sockets, "after_first": after_first,
                      "after_last": ray.is_initialized()}))
    """
)


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2) to list sockets")
def test_a_ray_plugrl_starts_listens_on_loopback_and_stops_with_the_last_trainer():
    run = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["sockets"], "found no Ray sockets to check"
    hosts = {address: address.rsplit(":", 1)[0].strip("[]") for address in report["sockets"]}
    exposed = [a for a, host in hosts.items() if host not in ("127.0.0.1", "::ffff:127.0.0.1")]
    assert not exposed, exposed
    assert report["after_first"] is True  # the second trainer still uses it
    assert report["after_last"] is False


def test_without_ray_in_process_training_works_and_workers_name_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # "import ray" now fails
    trainer = PPOTrainer(config=TINY_CONFIG, logdir=str(tmp_path / "in-process"))
    try:
        assert trainer.train()["timesteps_total"] == TINY_CONFIG["train_batch_size"]
    finally:
        trainer.stop()
    with pytest.raises(PluginError, match=r"Ray is not installed: pip install 'plugrl\[ray\]'"):
        PPOTrainer(config={**TINY_CONFIG, "num_workers": 1}, logdir=str(tmp_path / "ray"))


def test_ray_failing_to_start_is_one_clear_error(tmp_path, monkeypatch):
    ray = ray_session.import_ray()
    if ray.is_initialized():
        pytest.skip("a Ray session is already running in this process")

    def broken_init(*args, **kwargs):
        raise RuntimeError("the GCS did not come up\n(a long Ray traceback)")

    monkeypatch.setattr(ray, "init", broken_init)
    with pytest.raises(WorkerError) as error:
        PPOTrainer(config={**TINY_CONFIG, "num_workers": 1}, logdir=str(tmp_path))
    assert str(error.value) == (
        "Could not start Ray: RuntimeError: the GCS did not come up. Check ray_address, or set "
        "num_workers to 0 to train in this process."
    )
