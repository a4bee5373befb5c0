"""How far an acting call outside the framework would take sampling, measured in one process
beside the raw limit and plugrl's sampler (8 CartPole-v1 envs, PPO's [64, 64] tanh policy).

The acting call here is PPO's joined network (policy and value side by side, as the torch
backend joins them) with the categorical draw and its log-probabilities, in numpy. Put in place
of the policy's acting call (the worker's own inference timer), it projects what plugrl's
sampler would reach with it. The bound behind the sampling row of ``make bench``
(docs/benchmarks.md): not part of the tests, and not plugrl's acting path, which runs the
backend's model, distribution and exploration.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np
from bench import raw_limit, step_envs
from plugrl_side import sampling_worker

NUM_ENVS = 8
HIDDENS = [64, 64]


def joined_network(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """Weights and biases in the shapes of the policy and value branches side by side, as the
    torch backend joins them: 4 -> 128 -> 128 -> 3 (2 logits and the value). The values are
    random: only the shapes set the cost."""
    width = 2 * HIDDENS[0]
    sizes = [(4, width), (width, width), (width, 3)]
    return [
        (
            (rng.standard_normal(size) / np.sqrt(size[0])).astype(np.float32),
            np.zeros(size[1], np.float32),
        )
        for size in sizes
    ]


def make_act(rng: np.random.Generator) -> Callable[[np.ndarray], tuple]:
    """The acting call: a batch's actions, their log-probabilities and probabilities, the
    values and the logits."""
    (w1, b1), (w2, b2), (w3, b3) = joined_network(rng)

    def act(obs: np.ndarray) -> tuple:
        out = np.tanh(np.tanh(obs @ w1 + b1) @ w2 + b2) @ w3 + b3
        logits, value = out[:, :2], out[:, 2]
        shifted = logits - logits.max(axis=1, keepdims=True)
        logp_all = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        gumbel = -np.log(-np.log(rng.random(logits.shape, dtype=np.float32)))
        actions = np.argmax(logits + gumbel, axis=1)
        logp = logp_all[np.arange(len(actions)), actions]
        return actions, logp, np.exp(logp), value, logits

    return act


def microseconds(fn: Callable[[], object], calls: int) -> float:
    for _ in range(calls // 10):  # warm-up
        fn()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def sampler_step(samples: int) -> tuple[float, float]:
    """plugrl's microseconds per step of the 8 envs: the whole step, and its acting call (the
    worker's inference timer), over ``samples`` calls of ``sample()`` after a warm-up."""
    worker = sampling_worker(NUM_ENVS, HIDDENS)

    def acting_ms(steps: int) -> float:  # the worker's timer, a mean over all its steps
        return worker.get_perf_stats()["mean_inference_ms"] * steps

    warm_up = sum(worker.sample().count for _ in range(3))
    before = acting_ms(warm_up)
    start = time.perf_counter()
    steps = sum(worker.sample().count for _ in range(samples))
    seconds = time.perf_counter() - start
    acting = (acting_ms(warm_up + steps) - before) / 1000
    return seconds / steps * NUM_ENVS * 1e6, acting / steps * NUM_ENVS * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    act = make_act(rng)
    envs = [gym.make("CartPole-v1") for _ in range(NUM_ENVS)]
    obs = np.stack([env.reset(seed=i)[0] for i, env in enumerate(envs)])

    def step(actions: np.ndarray) -> None:
        nonlocal obs
        obs = step_envs(envs, actions)

    random_actions = itertools.cycle(rng.integers(0, 2, (1000, NUM_ENVS)))
    for _ in range(args.rounds):
        limit = raw_limit(NUM_ENVS, hiddens=HIDDENS)
        whole, acting = sampler_step(samples=10)
        alone = microseconds(lambda: act(obs), args.calls)
        envs_only = microseconds(lambda: step(next(random_actions)), args.calls)
        with_envs = microseconds(lambda: step(act(obs)[0]), args.calls)
        projected = whole - acting + (with_envs - envs_only)
        print(
            f"per step of {NUM_ENVS} envs: raw limit {NUM_ENVS / limit * 1e6:.0f} us; plugrl's "
            f"sampler {whole:.0f} us, of it acting {acting:.0f}; numpy acting alone "
            f"{alone:.0f} us, {with_envs - envs_only:.0f} between env steps (envs alone "
            f"{envs_only:.0f}); plugrl's sampler with it {projected:.0f} us: "
            f"{NUM_ENVS / projected * 1e6 / limit:.0%} of the raw limit "
            f"(now {NUM_ENVS / whole * 1e6 / limit:.0%})"
        )


if __name__ == "__main__":
    main()
