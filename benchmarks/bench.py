"""plugrl benchmark: sampling throughput against the raw env + MLP limit, the cost of PPO's
policy per acting call and learning step, and wall-clock time for PPO to reach a mean return of
450 on CartPole-v1, on each backend (torch, TF eager, TF traced).

Run with ``make bench``. Not part of the tests: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
import yaml

from plugrl import RolloutWorker, get_trainer_class
from plugrl.env.creator import make_env_creator
from plugrl_ppo import DEFAULT_CONFIG
from plugrl_ppo.ppo import get_policy_class
from plugrl_ppo.torch_policy import PPOTorchPolicy

TUNED = Path(__file__).parents[1] / "plugins/ppo/src/plugrl_ppo/tuned_examples/cartpole-ppo.yaml"
MODEL = {"fcnet_hiddens": [32, 32], "fcnet_activation": "tanh"}


# PPO to 450 with the tuned example on each backend: torch, TF eager, TF traced (tf.function).
BACKENDS: dict[str, dict[str, object]] = {
    "torch": {"framework": "torch"},
    "tf eager": {"framework": "tf", "eager_tracing": False},
    "tf traced": {"framework": "tf", "eager_tracing": True},
}

TRIALS = 5  # throughput figures are the best of this many runs: this machine's speed wanders


def best_of(trials: int, measure: Callable[[], float]) -> float:
    return max(measure() for _ in range(trials))


def raw_limit(num_envs: int = 8, steps: int = 1000) -> float:
    """Env steps/s of gymnasium CartPole-v1 with one batched forward per step of an MLP the
    size of the benchmarked policy's (one torch thread, as plugrl's policies use)."""
    torch.set_num_threads(1)
    envs = [gym.make("CartPole-v1") for _ in range(num_envs)]
    obs = np.stack([env.reset(seed=i)[0] for i, env in enumerate(envs)])
    sizes = [4, *MODEL["fcnet_hiddens"]]
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
                rows = []
                for env, action in zip(envs, actions, strict=True):
                    ob, _, terminated, truncated, _ = env.step(int(action))
                    rows.append(env.reset()[0] if terminated or truncated else ob)
                obs = np.stack(rows)
        return steps * num_envs / (time.perf_counter() - start)

    return best_of(TRIALS, measure)


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


def policy_costs(overrides: dict[str, object], reps: int = 200) -> tuple[float, float]:
    """Seconds per acting call on 8 observations and per learning step on 256 rows of PPO's
    policy (the tuned network) on one backend, best of :data:`TRIALS`."""
    config = dict(
        DEFAULT_CONFIG,
        model=MODEL,
        num_envs_per_worker=8,
        rollout_fragment_length=32,
        seed=0,
        **overrides,
    )
    policy_class = get_policy_class(config)
    worker = RolloutWorker(make_env_creator("CartPole-v1"), policy_class, config)
    policy, batch = worker.get_policy(), worker.sample()
    obs = batch["obs"][:8]

    def per_call(fn: Callable[[], object], n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - start) / n

    per_call(lambda: (policy.compute_actions(obs), policy.learn_on_batch(batch)), 20)  # warm-up
    act = min(per_call(lambda: policy.compute_actions(obs), reps) for _ in range(TRIALS))
    learn = min(per_call(lambda: policy.learn_on_batch(batch), reps // 10) for _ in range(TRIALS))
    return act, learn


def ppo_time_to(
    threshold: float, seed: int, budget: int = 300_000, **overrides: object
) -> tuple[float, int]:
    """Wall-clock seconds (construction included) and steps for tuned PPO to reach
    ``threshold``; ``overrides`` change the tuned config (e.g. ``framework="tf"``)."""
    spec = next(iter(yaml.safe_load(TUNED.read_text()).values()))
    config = dict(spec["config"], env=spec["env"], seed=seed, **overrides)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as logdir:
        trainer = get_trainer_class("PPO")(config=config, logdir=logdir)
        while True:
            result = trainer.train()
            if result["episode_reward_mean"] >= threshold or result["timesteps_total"] >= budget:
                break
        trainer.stop()
    return time.perf_counter() - start, result["timesteps_total"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--backends", nargs="+", choices=list(BACKENDS), help="PPO backends (default: all)"
    )
    parser.add_argument(
        "--ppo-only", action="store_true", help="only PPO to 450 (no throughput or costs)"
    )
    args = parser.parse_args()
    limit = 0.0 if args.ppo_only else raw_limit()
    if not args.ppo_only:
        print(f"raw limit (gymnasium CartPole x8 + batched MLP forward): {limit:,.0f} steps/s")
    for num_envs in () if args.ppo_only else (1, 8):
        rate = sampler_throughput(num_envs)
        print(
            f"RolloutWorker sampling, {num_envs} env(s): {rate:,.0f} steps/s "
            f"({rate / limit:.0%} of the limit)"
        )
    backends = {k: v for k, v in BACKENDS.items() if not args.backends or k in args.backends}
    for label, overrides in () if args.ppo_only else backends.items():
        act, learn = policy_costs(overrides)
        print(
            f"PPO policy, {label}: acting call (8 obs) {act * 1e6:,.0f} us, "
            f"learning step (256 rows) {learn * 1e3:.2f} ms"
        )
    for label, overrides in backends.items():
        times = []
        for seed in args.seeds:
            seconds, steps = ppo_time_to(450, seed, **overrides)
            times.append(seconds)
            print(f"PPO CartPole-v1 to 450, {label}, seed {seed}: {seconds:.1f} s, {steps:,} steps")
        print(
            f"PPO CartPole-v1 to 450, {label}: median {statistics.median(times):.1f} s over seeds "
            f"{args.seeds} (Stable-Baselines3's tuned PPO: about 15 s median here)"
        )


if __name__ == "__main__":
    main()
