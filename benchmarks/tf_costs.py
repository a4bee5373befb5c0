"""The cost of PPO's policy per acting call (8 observations) and per learning step (256 rows)
on torch, TF eager and TF traced, measured in turns in one process (this machine's speed
wanders: each figure is the best of ``--rounds`` rounds), with the number of traces of each
traced step after the measurement (more than one per step would mean retracing per call).

``--profile tf`` (or ``torch``) prints a cProfile of that backend's acting calls instead.
Not part of the tests: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections.abc import Callable
from typing import Any

from plugrl import RolloutWorker
from plugrl.env.creator import make_env_creator
from plugrl.registry import get_policy_class
from plugrl_ppo import DEFAULT_CONFIG

MODEL = {"fcnet_hiddens": [32, 32], "fcnet_activation": "tanh"}  # the tuned example's
BACKENDS: dict[str, dict[str, Any]] = {
    "torch": {"framework": "torch"},
    "tf eager": {"framework": "tf2"},
    "tf traced": {"framework": "tf"},
}


def policy_and_batch(overrides: dict[str, Any]) -> tuple[Any, Any]:
    """PPO's policy for CartPole on one backend, and a batch of 256 rows it sampled."""
    config = dict(
        DEFAULT_CONFIG,
        model=MODEL,
        num_envs_per_worker=8,
        rollout_fragment_length=32,
        seed=0,
        **overrides,
    )
    policy_class = get_policy_class(["PPO"], config["framework"])
    worker = RolloutWorker(make_env_creator("CartPole-v1"), policy_class, config)
    return worker.get_policy(), worker.sample()


def per_call(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def costs(policy: Any, batch: Any, acting_calls: int, learning_steps: int) -> tuple[float, float]:
    """Seconds per acting call on 8 observations and per learning step on ``batch``."""
    obs = batch["obs"][:8]
    act = per_call(lambda: policy.compute_actions(obs), acting_calls)
    return act, per_call(lambda: policy.learn_on_batch(batch), learning_steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--reps", type=int, default=300, help="acting calls per round")
    parser.add_argument("--profile", choices=["torch", "tf"], help="profile acting instead")
    args = parser.parse_args()
    if args.profile:
        label = "torch" if args.profile == "torch" else "tf traced"
        policy, batch = policy_and_batch(BACKENDS[label])
        obs = batch["obs"][:8]
        per_call(lambda: policy.compute_actions(obs), 50)
        profile = cProfile.Profile()
        profile.runcall(per_call, lambda: policy.compute_actions(obs), 2000)
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
        return
    setups = {label: policy_and_batch(overrides) for label, overrides in BACKENDS.items()}
    best: dict[str, list[float]] = {label: [float("inf")] * 2 for label in setups}
    for policy, batch in setups.values():  # warm-up (traces)
        costs(policy, batch, 10, 10)
    for _ in range(args.rounds):
        for label, (policy, batch) in setups.items():
            reps = args.reps if label != "tf eager" else args.reps // 10
            act, learn = costs(policy, batch, reps, max(reps // 20, 3))
            best[label] = [min(best[label][0], act), min(best[label][1], learn)]
    torch_act, torch_learn = best["torch"]
    for label, (act, learn) in best.items():
        print(
            f"{label:10s} acting call (8 obs) {act * 1e6:7,.0f} us ({act / torch_act:4.1f}x), "
            f"learning step (256 rows) {learn * 1e3:6.2f} ms ({learn / torch_learn:4.1f}x)"
        )
    traced = setups["tf traced"][0].backend.traced
    counts = {
        name: fn.experimental_get_tracing_count()
        for name, fn in traced.items()
        if hasattr(fn, "experimental_get_tracing_count")
    }
    print(f"tf traced: traces per step after all calls {counts}")


if __name__ == "__main__":
    main()
