"""Checks the distributions as a user without a clone gets them (run by `make check-wheels`):
every distribution builds a wheel that holds its package data, and a clean venv with only those
wheels and their dependencies installed trains, rolls out and plots.

Prints each check; on a failure, exits 1 with the failing command and its output.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST_DIRS = [ROOT / "core", *sorted(p.parent for p in ROOT.glob("plugins/*/pyproject.toml"))]
# What the check installs: a backend, an algorithm and the plot tool. TF stays out: installing
# it and one TF run add ~50 s (a third) to this check; the test suite covers the TF policies.
EXTRAS = "torch,ppo,plot"
EXPECTED_DISTRIBUTIONS = {"plugrl", "plugrl-exploration", "plugrl-ppo", "plugrl-torch"}
TINY_PPO = {
    "train_batch_size": 128,
    "sgd_minibatch_size": 64,
    "num_sgd_iter": 1,
    "rollout_fragment_length": 64,
    "num_envs_per_worker": 2,
    "model": {"fcnet_hiddens": [8]},
}


class CheckFailed(Exception):
    """A check failed; the message says which and shows the output."""


def ok(name: str, start: float) -> None:
    print(f"[ok] {name} ({time.monotonic() - start:.0f} s)", flush=True)


def run(name: str, cmd: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    """Run ``cmd`` from ``cwd``; its stdout, or CheckFailed with its output."""
    start = time.monotonic()
    args = [str(a) for a in cmd]
    try:
        proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired as exc:
        raise CheckFailed(f"{name}: `{shlex.join(args)}` ran over {exc.timeout:.0f} s") from None
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr)[-6000:]
        raise CheckFailed(f"{name}: `{shlex.join(args)}` exited {proc.returncode}\n{output}")
    ok(name, start)
    return proc.stdout


def project(dist_dir: Path) -> dict:
    return tomllib.loads((dist_dir / "pyproject.toml").read_text())["project"]


def build_wheels(work: Path, env: dict[str, str]) -> Path:
    """Wheels of every distribution in ``work/wheels``. Each is built from a copy of its folder,
    so stale build/ or *.egg-info/ in the working tree cannot slip into a wheel."""
    sources = work / "src"
    for dist_dir in DIST_DIRS:
        ignore = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__")
        shutil.copytree(dist_dir, sources / dist_dir.name, ignore=ignore)
    wheels = work / "wheels"
    # No build isolation: this venv's setuptools (requirements-dev.txt) builds all eight in
    # ~10 s; an isolated build environment per distribution adds ~45 s.
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    cmd += ["-w", wheels, *(sources / d.name for d in DIST_DIRS)]
    run(f"build {len(DIST_DIRS)} wheels", cmd, work, env)
    return wheels


def check_wheel_contents(wheels: Path) -> None:
    """Each wheel holds its one package with every non-Python file of the source (tuned
    examples, py.typed), and nothing else (no tests, no stray top-level packages)."""
    start = time.monotonic()
    for dist_dir in DIST_DIRS:
        meta = project(dist_dir)
        stem = f"{meta['name'].replace('-', '_')}-{meta['version']}"
        (init,) = (dist_dir / "src").glob("*/__init__.py")
        package = init.parent
        wheel = wheels / f"{stem}-py3-none-any.whl"
        if not wheel.is_file():
            raise CheckFailed(f"no wheel {wheel.name} for {dist_dir.relative_to(ROOT)}")
        names = set(zipfile.ZipFile(wheel).namelist())
        data = {
            f"{package.name}/{p.relative_to(package).as_posix()}"
            for p in package.rglob("*")
            if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts
        }
        missing = sorted(data - names)
        if f"{package.name}/py.typed" not in data:
            missing.append(f"{package.name}/py.typed (not in the source either)")
        if missing:
            raise CheckFailed(f"{wheel.name} lacks package data: {', '.join(missing)}")
        top = {n.split("/")[0] for n in names} - {package.name, f"{stem}.dist-info"}
        if top:
            raise CheckFailed(f"{wheel.name} holds more than {package.name}: {sorted(top)}")
    ok("every wheel holds its package data (tuned examples, py.typed) and nothing else", start)


def check_all_extra() -> None:
    """``plugrl[all]`` names every other extra of the kernel, and only extras that exist (pip
    merely warns about an unknown extra)."""
    start = time.monotonic()
    extras = project(ROOT / "core")["optional-dependencies"]
    (requirement,) = extras["all"]
    named = set(requirement.removeprefix("plugrl[").removesuffix("]").split(","))
    if named != set(extras) - {"all"}:
        raise CheckFailed(
            f"core/pyproject.toml: `all` = {requirement!r} should name exactly the other "
            f"extras {sorted(set(extras) - {'all'})}"
        )
    ok("plugrl[all] names every other extra", start)


def make_venv(work: Path, wheels: Path, env: dict[str, str]) -> Path:
    """A new venv (not the dev one) holding only ``plugrl[EXTRAS]`` installed from the wheel
    folder and their dependencies (not even pip)."""
    venv = work / "venv"
    run("create a clean venv", [sys.executable, "-m", "venv", "--without-pip", venv], work, env)
    # This interpreter's pip installs into the venv (--python). --no-compile: byte-compiling
    # all of torch doubles the install time; the runs below compile what they import.
    pip = [sys.executable, "-m", "pip", "--python", venv / "bin" / "python"]
    report = work / "install.json"
    install = [*pip, "install", "-q", "--no-compile", "-c", ROOT / "constraints.txt"]
    install += ["--find-links", wheels, "--report", report, f"plugrl[{EXTRAS}]"]
    run(f"pip install 'plugrl[{EXTRAS}]' from the wheels", install, work, env)
    # Our distributions must come from the wheel folder, never from an index.
    elsewhere = [
        item["download_info"]["url"]
        for item in json.loads(report.read_text())["install"]
        if item["metadata"]["name"].startswith("plugrl")
        and not item["download_info"]["url"].startswith(wheels.as_uri())
    ]
    if elsewhere:
        raise CheckFailed(f"installed from outside the wheel folder: {elsewhere}")
    run("pip check", [*pip, "check"], work, env)
    return venv


def check_cli(work: Path, venv: Path, env: dict[str, str]) -> None:
    """The installed `plugrl` trains, rolls out and plots, from a folder outside the repo."""
    python, plugrl = venv / "bin" / "python", venv / "bin" / "plugrl"
    code = (
        "import json, importlib.resources as r, matplotlib, plugrl, plugrl_ppo, plugrl_torch;"
        "print(json.dumps({'modules': [plugrl.__file__, plugrl_ppo.__file__, "
        "plugrl_torch.__file__], 'yaml': str(r.files('plugrl_ppo') / 'tuned_examples' / "
        "'cartpole-ppo.yaml')}))"
    )
    found = json.loads(
        run("import plugrl, plugrl_ppo, plugrl_torch, matplotlib", [python, "-c", code], work, env)
    )
    outside = [f for f in [*found["modules"], found["yaml"]] if not f.startswith(str(venv))]
    if outside:
        raise CheckFailed(f"imported from outside the clean venv: {outside}")

    run("plugrl --help", [plugrl, "--help"], work, env)
    listing = json.loads(run("plugrl plugins --json", [plugrl, "plugins", "--json"], work, env))
    dists = {p["distribution"] for p in listing["plugins"]}
    if listing["failures"] or dists != EXPECTED_DISTRIBUTIONS:
        raise CheckFailed(
            f"plugrl plugins: expected {sorted(EXPECTED_DISTRIBUTIONS)}, got {sorted(dists)}; "
            f"failures: {listing['failures']}"
        )

    results = ["--local-dir", work / "results"]
    out = run(
        "plugrl train --run PPO --env CartPole-v1 (tiny config, 2 iterations)",
        [plugrl, "train", "--run", "PPO", "--env", "CartPole-v1", "--config", json.dumps(TINY_PPO)]
        + ["--stop", '{"training_iteration": 2}', *results],
        work,
        env,
    )
    checkpoint = next(
        (line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("Checkpoint: ")),
        None,
    )
    if checkpoint is None:
        raise CheckFailed(f"plugrl train printed no `Checkpoint: ` line:\n{out}")
    run(
        "plugrl train -f <cartpole-ppo.yaml from the installed plugrl_ppo>",
        [plugrl, "train", "-f", found["yaml"], "--stop", '{"training_iteration": 1}', *results],
        work,
        env,
    )
    run(
        "plugrl rollout <checkpoint> --episodes 1 --no-render",
        [plugrl, "rollout", checkpoint, "--episodes", "1", "--no-render"],
        work,
        env,
    )
    image = work / "plot.png"
    trial = Path(checkpoint).parent
    run("plugrl plot <trial>", [plugrl, "plot", trial, "-o", image], work, env)
    if not image.is_file() or image.stat().st_size == 0:
        raise CheckFailed(f"plugrl plot wrote no image at {image}")


def main() -> int:
    start = time.monotonic()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PLUGRL_PLUGINS", "PLUGRL_RESULTS_DIR", "VIRTUAL_ENV"}
    }
    with tempfile.TemporaryDirectory(prefix="plugrl-wheels-") as tmp:
        work = Path(tmp)
        try:
            wheels = build_wheels(work, env)
            check_wheel_contents(wheels)
            check_all_extra()
            venv = make_venv(work, wheels, env)
            check_cli(work, venv, env)
        except CheckFailed as exc:
            print(f"[FAIL] {exc}")
            return 1
    print(f"wheel checks passed in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
