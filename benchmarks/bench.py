"""plugrl benchmark. First plugrl beside Stable-Baselines3 (``comparison.py``): start-up,
sampling throughput against the raw env + MLP limit, time to a mean return of 450 for PPO, A2C
and DQN (medians over seeds), peak memory, as one table with the ratios. Then plugrl's other
paths: multi-agent sampling beside single-agent, offline data written and read, a policy
server's calls/s and latency, PPO's acting and learning costs and time to 450 on each
backend, and A3C's env steps/s with 1 and 2 Ray workers.

Run with ``make bench``. Not part of the tests: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import remote_costs
import torch
from comparison import Comparison, run_side, times
from plugrl_side import TUNED
from startup import measure_startup
from tf_costs import costs, policy_and_batch

from plugrl import MultiAgentEnv, RolloutWorker, ServingError
from plugrl.env.creator import make_env_creator
from plugrl.offline import JsonReader, JsonWriter
from plugrl.registry import get_trainer_class
from plugrl.testing import tuned_example
from plugrl_ppo import DEFAULT_CONFIG, PPOTorchPolicy

SB3_PYTHON = Path(__file__).parents[1] / ".venv-sb3" / "bin" / "python"
SERVING = Path(__file__).parents[1] / "examples" / "serving"
MODEL = {"fcnet_hiddens": [32, 32], "fcnet_activation": "tanh"}


BACKENDS: dict[str, dict[str, object]] = {
    "torch": {"framework": "torch"},
    "tf (traced)": {"framework": "tf"},
    "tf2 (eager)": {"framework": "tf2"},
}

TRIALS = 5  # throughput figures are the best of this many runs: this machine's speed wanders


def best_of(trials: int, measure: Callable[[], float]) -> float:
    return max(measure() for _ in range(trials))


def raw_limit(num_envs: int = 8, steps: int = 1000, hiddens: list[int] | None = None) -> float:
    """Env steps/s of gymnasium CartPole-v1 with one batched forward per step of an MLP of
    ``hiddens`` (tanh; the benchmarked policy's by default), on one torch thread as plugrl's
    policies use: all a sampler must do, done as directly as possible."""
    torch.set_num_threads(1)
    envs = [gym.make("CartPole-v1") for _ in range(num_envs)]
    obs = np.stack([env.reset(seed=i)[0] for i, env in enumerate(envs)])
    sizes = [4, *(hiddens or MODEL["fcnet_hiddens"])]
    layers: list[torch.nn.Module] = []
    for size_in, size_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [torch.nn.Linear(size_in, size_out), torch.nn.Tanh()]
    net = torch.nn.Sequential(*layers, torch.nn.Linear(sizes[-1], 2))

    def measure() -> float:
        nonlocal obs
        start = time.perf_counter()
        with torch.no_grad():
            for _ in range(steps):
                actions = net(torch.from_numpy(obs.astype(np.float32))).argmax(-1).numpy()
                obs = step_envs(envs, actions)
        return steps * num_envs / (time.perf_counter() - start)

    return best_of(TRIALS, measure)


def step_envs(envs: list[gym.Env], actions: np.ndarray) -> np.ndarray:
    """Step each env with its action (resetting those whose episode ended): the next
    observations, stacked."""
    rows = []
    for env, action in zip(envs, actions, strict=True):
        ob, _, terminated, truncated, _ = env.step(int(action))
        rows.append(env.reset()[0] if terminated or truncated else ob)
    return np.stack(rows)


def sampler_throughput(num_envs: int, total_steps: int = 8000) -> float:
    """Env steps/s of RolloutWorker.sample() with PPO's torch policy (sampling only)."""
    config = dict(
        DEFAULT_CONFIG,
        num_envs_per_worker=num_envs,
        rollout_fragment_length=200,
        model=MODEL,
        seed=0,
    )
    worker = RolloutWorker(make_env_creator("CartPole-v1"), PPOTorchPolicy, config)
    worker.sample()  # warm-up

    def measure() -> float:
        steps = 0
        start = time.perf_counter()
        while steps < total_steps:
            steps += worker.sample().count
        return steps / (time.perf_counter() - start)

    return best_of(TRIALS, measure)


class EveryAgentEveryStep(MultiAgentEnv):
    """``num_agents`` agents, each with its own CartPole-v1 that restarts when its episode
    ends, so every agent acts on every step (as many single-agent envs would); the episode
    ends after 500 steps."""

    def __init__(self, num_agents: int):
        self.envs = [gym.make("CartPole-v1") for _ in range(num_agents)]
        self.possible_agents = list(range(num_agents))
        self.observation_space = self.envs[0].observation_space
        self.action_space = self.envs[0].action_space
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple:
        self.t = 0
        return {i: env.reset(seed=seed)[0] for i, env in enumerate(self.envs)}, {}

    def step(self, action_dict: dict) -> tuple:
        self.t += 1
        obs, rewards = {}, {}
        for i, action in action_dict.items():
            obs[i], rewards[i], terminated, truncated, _ = self.envs[i].step(action)
            if terminated or truncated:
                obs[i] = self.envs[i].reset()[0]
        return obs, rewards, {"__all__": False}, {"__all__": self.t >= 500}, {}


def multi_agent_throughput(num_agents: int, total_steps: int = 8000) -> float:
    """Agent steps/s of RolloutWorker.sample() on one multi-agent env whose ``num_agents``
    agents all act on every step through one shared PPO torch policy (one batched call per
    step, as ``num_agents`` single-agent envs would be)."""
    config = dict(DEFAULT_CONFIG, rollout_fragment_length=200, model=MODEL, seed=0)
    worker = RolloutWorker(lambda ctx: EveryAgentEveryStep(num_agents), PPOTorchPolicy, config)
    worker.sample()  # warm-up

    def measure() -> float:
        steps = 0
        start = time.perf_counter()
        while steps < total_steps:
            steps += worker.sample().agent_steps()
        return steps / (time.perf_counter() - start)

    return best_of(TRIALS, measure)


def report_multi_agent() -> None:
    for num_agents in (2, 8):
        single = sampler_throughput(num_agents)
        multi = multi_agent_throughput(num_agents)
        print(
            f"multi-agent sampling, {num_agents} agents, one shared policy: {multi:,.0f} agent "
            f"steps/s; single-agent, {num_agents} envs: {single:,.0f} steps/s "
            f"({multi / single:.0%})"
        )


def offline_throughput(compress: bool, steps: int = 8192) -> tuple[float, float]:
    """Rows/s written and read back as JSON lines: CartPole batches of 512 rows as the
    sampler makes them, with obs and new_obs LZ4-compressed or all columns readable."""
    worker = RolloutWorker(
        make_env_creator("CartPole-v1"),
        PPOTorchPolicy,
        {**DEFAULT_CONFIG, "num_envs_per_worker": 8, "rollout_fragment_length": 64, "seed": 0},
    )
    batches = [worker.sample() for _ in range(steps // 512)]
    columns = ["obs", "new_obs"] if compress else []
    with tempfile.TemporaryDirectory() as folder:
        writer = JsonWriter(folder, compress_columns=columns)
        start = time.perf_counter()
        for batch in batches:
            writer.write(batch)
        writer.close()
        write_rate = steps / (time.perf_counter() - start)
        reader = JsonReader(folder)
        start = time.perf_counter()
        read = sum(reader.next().count for _ in batches)
        read_rate = read / (time.perf_counter() - start)
    return write_rate, read_rate


def serving_throughput(num_clients: int, inference_mode: str, seconds: float = 10.0) -> dict:
    """``num_clients`` client processes (``serving_client.py``) play CartPole for ``seconds``
    against a PPO policy server on loopback (``examples/serving/cartpole_server.py``'s
    config) that trains all along: client calls per second (in remote mode each call is one
    HTTP request), env steps per second, the p50 / p99 latency of a call as the client sees
    it, and the HTTP requests per second the server answered (local mode: event batches and
    weight refreshes only)."""
    import subprocess
    import sys
    import threading

    spec = importlib.util.spec_from_file_location("cartpole_server", SERVING / "cartpole_server.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    config = example.server_config("PPO", port=0, seed=0, log_level="ERROR")
    with tempfile.TemporaryDirectory() as logdir:
        trainer = get_trainer_class("PPO")(config=config, logdir=logdir)
        reader = trainer.workers.local_worker().input_reader
        command = [sys.executable, str(Path(__file__).parent / "serving_client.py")]
        command += ["--server", reader.url, "--inference-mode", inference_mode]
        clients = [
            subprocess.Popen(
                [*command, "--seconds", str(seconds), "--seed", str(i)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(num_clients)
        ]
        stop = threading.Event()

        def train() -> None:  # the server learns while it serves
            with contextlib.suppress(ServingError):  # closed at the end
                while not stop.is_set():
                    trainer.train()

        learner = threading.Thread(target=train, daemon=True)
        try:
            for client in clients:
                assert client.stdout.readline().strip() == "ready"
            learner.start()
            requests_before, start = reader.num_requests, time.perf_counter()
            for client in clients:
                client.stdin.write("go\n")
                client.stdin.flush()
            reports = [json.loads(client.stdout.readline()) for client in clients]
            elapsed = time.perf_counter() - start
            requests = reader.num_requests - requests_before
        finally:
            stop.set()
            for client in clients:
                client.kill()
            reader.close()  # wakes a train() waiting for steps
            if learner.is_alive():
                learner.join(60)
            trainer.stop()
    latencies = np.concatenate([np.asarray(r["us"], dtype=np.int64) for r in reports])
    duration = max(r["seconds"] for r in reports)
    return {
        "calls_per_s": sum(r["calls"] for r in reports) / duration,
        "steps_per_s": sum(r["steps"] for r in reports) / duration,
        "p50_us": float(np.percentile(latencies, 50)),
        "p99_us": float(np.percentile(latencies, 99)),
        "requests_per_s": requests / elapsed,
    }


def report_serving() -> None:
    for mode in ("remote", "local"):
        for num_clients in (1, 8):
            r = serving_throughput(num_clients, mode)
            print(
                f"policy server, {mode} inference, {num_clients} client(s): "
                f"{r['calls_per_s']:,.0f} calls/s ({r['steps_per_s']:,.0f} env steps/s), "
                f"call latency p50 {r['p50_us'] / 1000:.2f} ms / p99 {r['p99_us'] / 1000:.2f} ms, "
                f"server {r['requests_per_s']:,.0f} requests/s"
            )


def policy_costs(overrides: dict[str, object], reps: int = 200) -> tuple[float, float]:
    """Seconds per acting call on 8 observations and per learning step on 256 rows of PPO's
    policy (the tuned network) on one backend, best of :data:`TRIALS`
    (:mod:`tf_costs` measures the backends in turns)."""
    policy, batch = policy_and_batch(overrides)
    costs(policy, batch, 20, 20)  # warm-up
    runs = [costs(policy, batch, reps, reps // 10) for _ in range(TRIALS)]
    return min(act for act, _ in runs), min(learn for _, learn in runs)


def a3c_throughput(num_workers: int) -> float:
    """Env steps/s of A3C (the tuned example with ``num_workers`` Ray workers), best of 5
    iterations of 100 gradients after a warm-up one."""
    grads = {"grads_per_step": 100}
    trainer_class, config = tuned_example(
        TUNED["A3C"], seed=0, num_workers=num_workers, optimizer=grads
    )
    with tempfile.TemporaryDirectory() as logdir:
        trainer = trainer_class(config=config, logdir=logdir)
        trainer.train()

        def measure() -> float:
            result = trainer.train()
            return result["timesteps_this_iter"] / result["time_this_iter_s"]

        rate = best_of(TRIALS, measure)
        trainer.stop()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--sb3-python",
        default=str(SB3_PYTHON) if SB3_PYTHON.exists() else None,
        help="interpreter of an environment with Stable-Baselines3 (make bench makes "
        ".venv-sb3); without one the SB3 columns are empty",
    )
    parser.add_argument(
        "--backends", nargs="+", choices=list(BACKENDS), help="PPO backends (default: all)"
    )
    parser.add_argument(
        "--table-only", action="store_true", help="only the comparison with Stable-Baselines3"
    )
    parser.add_argument(
        "--serving-only", action="store_true", help="only the policy server's throughput"
    )
    parser.add_argument(
        "--multi-agent-only", action="store_true", help="only the multi-agent sampling rates"
    )
    args = parser.parse_args()
    if args.serving_only:
        report_serving()
        return
    if args.multi_agent_only:
        report_multi_agent()
        return
    table = Comparison(args.sb3_python, args.seeds)
    table.startup(measure_startup(args.sb3_python))
    for num_envs in (8, 1):
        table.sampling(num_envs, raw_limit(num_envs, hiddens=[64, 64]))
    table.time_to_450("PPO", 300_000, "under 0.4")
    table.time_to_450("A2C", 500_000, "under 0.4")
    table.time_to_450("DQN", 300_000, "all seeds, within 2x SB3's PPO", peer="PPO")
    table.peak_rss()
    if not args.table_only:
        report_the_rest(args)
    table.print_table()


def report_the_rest(args: argparse.Namespace) -> None:
    """Figures without a peer: plugrl's other paths."""
    backends = {k: v for k, v in BACKENDS.items() if not args.backends or k in args.backends}
    report_multi_agent()
    for compress in (True, False):
        write, read = offline_throughput(compress)
        label = "obs LZ4-compressed" if compress else "readable"
        print(f"offline data, {label}: write {write:,.0f} rows/s, read {read:,.0f} rows/s")
    report_serving()
    for label, overrides in backends.items():
        act, learn = policy_costs(overrides)
        print(
            f"PPO policy, {label}: acting call (8 obs) {act * 1e6:,.0f} us, "
            f"learning step (256 rows) {learn * 1e3:.2f} ms"
        )
    for label, overrides in backends.items():
        if label == "tf (traced)":  # eager TF, the debugging mode, takes minutes per seed
            report_time_to_tf(label, overrides, args.seeds)
    remote_costs.report(remote_costs.measure())
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    rates = {n: a3c_throughput(n) for n in (1, 2)}
    ray.shutdown()
    print(
        f"A3C env steps/s with 1 / 2 Ray workers: {rates[1]:,.0f} / {rates[2]:,.0f} "
        f"({rates[2] / rates[1]:.2f}x)"
    )


def report_time_to_tf(label: str, overrides: dict[str, object], seeds: list[int]) -> None:
    """PPO's tuned example on a TF backend: seconds to 450 per seed (fresh processes)."""
    settings = [f"{key}={json.dumps(value)}" for key, value in overrides.items()]
    runs = [
        run_side(
            sys.executable,
            "plugrl_side.py",
            "time-to",
            "PPO",
            "--seed",
            seed,
            "--budget",
            300_000,
            "--set",
            *settings,
        )["reached"][0]
        for seed in seeds
    ]
    print(f"PPO ({label}) to 450, median of seeds {seeds}: {times(runs)}")


if __name__ == "__main__":
    main()
