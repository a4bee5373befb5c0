"""plugrl benchmark: sampling throughput against the raw env + MLP limit, and wall-clock time
for PPO and DQN to reach a mean return of 450 on CartPole-v1 (next to Stable-Baselines3's
tuned agents when it is installed).

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
from plugrl_ppo.torch_policy import PPOTorchPolicy

PLUGINS = Path(__file__).parents[1] / "plugins"
TUNED = {
    "PPO": PLUGINS / "ppo/src/plugrl_ppo/tuned_examples/cartpole-ppo.yaml",
    "DQN": PLUGINS / "dqn/src/plugrl_dqn/tuned_examples/cartpole-dqn.yaml",
}
MODEL = {"fcnet_hiddens": [32, 32], "fcnet_activation": "tanh"}


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


def time_to(
    algorithm: str, threshold: float, seed: int, budget: int = 300_000
) -> tuple[float, int]:
    """Wall-clock seconds (construction included) and steps for the tuned example of
    ``algorithm`` to reach a mean return of ``threshold``."""
    spec = next(iter(yaml.safe_load(TUNED[algorithm].read_text()).values()))
    config = dict(spec["config"], env=spec["env"], seed=seed)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as logdir:
        trainer = get_trainer_class(spec["run"])(config=config, logdir=logdir)
        while True:
            result = trainer.train()
            if result["episode_reward_mean"] >= threshold or result["timesteps_total"] >= budget:
                break
        trainer.stop()
    return time.perf_counter() - start, result["timesteps_total"]


# rl-baselines3-zoo's tuned CartPole-v1 hyperparameters (PPO's rates constant where the zoo
# anneals them linearly).
SB3_TUNED = {
    "PPO": {
        "n_steps": 32,
        "batch_size": 256,
        "gae_lambda": 0.8,
        "gamma": 0.98,
        "n_epochs": 20,
        "ent_coef": 0.0,
        "learning_rate": 1e-3,
        "clip_range": 0.2,
        "n_envs": 8,
    },
    "DQN": {
        "learning_rate": 2.3e-3,
        "batch_size": 64,
        "buffer_size": 100_000,
        "learning_starts": 1000,
        "gamma": 0.99,
        "target_update_interval": 10,
        "train_freq": 256,
        "gradient_steps": 128,
        "exploration_fraction": 0.16,
        "exploration_final_eps": 0.04,
        "policy_kwargs": {"net_arch": [256, 256]},
    },
}


def sb3_time_to(
    algorithm: str, threshold: float, seed: int, budget: int = 300_000
) -> tuple[float, int] | None:
    """Like :func:`time_to` for Stable-Baselines3's tuned agent; None if it is not installed.
    Its mean is over the last 100 episodes, as plugrl's."""
    try:
        import stable_baselines3
        from stable_baselines3.common.callbacks import BaseCallback
        from stable_baselines3.common.env_util import make_vec_env
    except ImportError:
        return None

    class StopAt(BaseCallback):
        def _on_step(self) -> bool:
            returns = [info["r"] for info in self.model.ep_info_buffer]
            return not (len(returns) >= 10 and np.mean(returns) >= threshold)

    params = dict(SB3_TUNED[algorithm])
    start = time.perf_counter()
    env = make_vec_env("CartPole-v1", n_envs=params.pop("n_envs", 1), seed=seed)
    model = getattr(stable_baselines3, algorithm)("MlpPolicy", env, seed=seed, **params)
    model.learn(budget, callback=StopAt())
    return time.perf_counter() - start, model.num_timesteps


def report_time_to(algorithm: str, threshold: float, seeds: list[int]) -> None:
    for name, measure in ((algorithm, time_to), (f"Stable-Baselines3 {algorithm}", sb3_time_to)):
        times = []
        for seed in seeds:
            measured = measure(algorithm, threshold, seed)
            if measured is None:
                print(f"{name}: not installed (pip install stable-baselines3 to compare)")
                break
            seconds, steps = measured
            times.append(seconds)
            print(f"{name} to {threshold:g}, seed {seed}: {seconds:.1f} s, {steps:,} steps")
        if times:
            median = statistics.median(times)
            print(f"{name} to {threshold:g}: median {median:.1f} s over seeds {seeds}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    limit = raw_limit()
    print(f"raw limit (gymnasium CartPole x8 + batched MLP forward): {limit:,.0f} steps/s")
    for num_envs in (1, 8):
        rate = sampler_throughput(num_envs)
        print(
            f"RolloutWorker sampling, {num_envs} env(s): {rate:,.0f} steps/s "
            f"({rate / limit:.0%} of the limit)"
        )
    for algorithm in ("PPO", "DQN"):
        report_time_to(algorithm, 450, args.seeds)


if __name__ == "__main__":
    main()
