"""Checks the kernel alone (run by `make check-core` in a venv with only `core` installed):
it imports without torch/tensorflow/ray, lists its built-ins, and names the plugin to install.

Prints each check; exits 1 when any fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

FAILURES: list[str] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    print(f"[{'ok' if ok else 'FAIL'}] {name}" + (f": {detail}" if detail and not ok else ""))
    if not ok:
        FAILURES.append(name)


def plugrl(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PLUGRL_PLUGINS"}
    return subprocess.run(
        [sys.executable, "-m", "plugrl", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def check_names_extra(label: str, setup: str, call: str, extra: str) -> None:
    """``call`` (after ``setup``) raises a PluginError naming ``plugrl[extra]``."""
    report = "except Exception as exc:\n    print(type(exc).__name__, exc)\n"
    proc = python(f"{setup}try:\n    {call}\n{report}")
    check(
        f"{label}: a PluginError naming plugrl[{extra}]",
        proc.stdout.startswith("PluginError") and f"plugrl[{extra}]" in proc.stdout,
        proc.stdout + proc.stderr,
    )


def main() -> int:
    code = (
        "import sys, plugrl; heavy = [m for m in ('torch', 'tensorflow', 'ray') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    proc = python(code)
    check("import plugrl works", proc.returncode == 0, proc.stderr.strip()[-500:])
    check(
        "import plugrl imports no torch/tensorflow/ray",
        proc.returncode == 0 and not proc.stdout.strip(),
        proc.stdout.strip(),
    )

    proc = plugrl("plugins", "--json")
    check("`plugrl plugins --json` exits 0", proc.returncode == 0, proc.stderr.strip()[-500:])
    try:
        names = {p["name"] for p in json.loads(proc.stdout)["plugins"]}
    except (ValueError, KeyError, TypeError) as exc:
        names = set()
        check("`plugrl plugins --json` prints JSON", False, f"{exc}: {proc.stdout[:300]!r}")
    builtins = {"plugrl.builtins.optimizers", "plugrl.builtins.loggers", "plugrl.builtins.commands"}
    check(
        "`plugrl plugins` lists the built-ins",
        builtins <= names,
        f"missing {sorted(builtins - names)}",
    )
    proc = plugrl("plugins")
    check(
        "`plugrl plugins` prints a table with the built-ins",
        proc.returncode == 0 and all(b in proc.stdout for b in builtins),
        proc.stdout + proc.stderr,
    )

    proc = plugrl("train", "--run", "PPO", "--env", "CartPole-v1")
    lines = proc.stderr.strip().splitlines()
    check(
        "`plugrl train --run PPO` exits non-zero",
        proc.returncode != 0,
        f"exit code {proc.returncode}",
    )
    check(
        "... with one error line saying `pip install plugrl-ppo`",
        len(lines) == 1
        and "pip install plugrl-ppo" in lines[0]
        and lines[0].startswith("plugrl: error:"),
        proc.stderr,
    )

    check_names_extra(
        "`plugrl.tune` without Ray",
        "from plugrl import tune\n",
        "tune.grid_search([1, 2])",
        "tune",
    )
    check_names_extra(
        "the policy server without aiohttp",
        "import sys\n"
        "from plugrl import PolicyClient, PolicyServerInput\n"
        "from plugrl.serving.server import import_aiohttp_web\n"
        "assert 'aiohttp' not in sys.modules\n",
        "import_aiohttp_web()",
        "serve",
    )

    script = os.path.join(os.path.dirname(sys.executable), "plugrl")
    check("the `plugrl` console script is installed", os.path.exists(script), script)
    if os.path.exists(script):
        proc = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=120)
        check("the `plugrl` console script runs", proc.returncode == 0, proc.stdout + proc.stderr)

    if FAILURES:
        print(f"{len(FAILURES)} core-only check(s) failed: {', '.join(FAILURES)}")
        return 1
    print("core-only checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
