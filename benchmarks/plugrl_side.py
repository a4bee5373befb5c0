"""The plugrl side of ``make bench``'s comparison with Stable-Baselines3 (``sb3_side.py``):
the same subcommands, each run in a fresh process that prints one JSON line.

- ``time-to ALGO --seed S --thresholds 450 --budget N [--set key=json ...]``: wall-clock
  seconds (construction included) and steps for the tuned example of ``ALGO`` to first reach
  each threshold as its ``episode_reward_mean``, and the process's peak RSS.
- ``sampling --num-envs 8 --hiddens 64 64``: env steps/s of ``RolloutWorker.sample()`` with
  PPO's torch policy (acting, value estimates, trajectories, GAE), one figure per repeat.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import side_common
import torch  # imported before the clock starts, as Stable-Baselines3 is on its side

from plugrl import RolloutWorker
from plugrl.env.creator import make_env_creator
from plugrl.testing import tuned_example

PLUGINS = Path(__file__).parents[1] / "plugins"
TUNED = {
    "PPO": PLUGINS / "ppo/src/plugrl_ppo/tuned_examples/cartpole-ppo.yaml",
    "DQN": PLUGINS / "dqn/src/plugrl_dqn/tuned_examples/cartpole-dqn.yaml",
    "A2C": PLUGINS / "a3c/src/plugrl_a3c/tuned_examples/cartpole-a2c.yaml",
    "A3C": PLUGINS / "a3c/src/plugrl_a3c/tuned_examples/cartpole-a3c.yaml",
}


def time_to(
    algorithm: str, thresholds: list[float], seed: int, budget: int, **overrides: object
) -> dict:
    """Seconds and steps to each threshold (``nan`` seconds where the budget ran out)."""
    start = time.perf_counter()
    trainer_class, config = tuned_example(TUNED[algorithm], seed=seed, **overrides)
    reached: list[tuple[float, int]] = []
    with tempfile.TemporaryDirectory() as logdir:
        trainer = trainer_class(config=config, logdir=logdir)
        while len(reached) < len(thresholds):
            result = trainer.train()
            steps = result["timesteps_total"]
            while len(reached) < len(thresholds) and (
                result["episode_reward_mean"] >= thresholds[len(reached)]
            ):
                reached.append((time.perf_counter() - start, steps))
            if steps >= budget:
                reached += [(float("nan"), steps)] * (len(thresholds) - len(reached))
        trainer.stop()
    return {"reached": reached, "peak_rss_mib": side_common.peak_rss_mib()}


def sampling_worker(num_envs: int, hiddens: list[int]) -> RolloutWorker:
    """A worker with PPO's torch policy on ``num_envs`` CartPole-v1 envs, 200 steps per env
    per ``sample()``."""
    from plugrl_ppo import DEFAULT_CONFIG, PPOTorchPolicy

    config = dict(
        DEFAULT_CONFIG,
        num_envs_per_worker=num_envs,
        rollout_fragment_length=200,
        model={"fcnet_hiddens": hiddens, "fcnet_activation": "tanh"},
        seed=0,
    )
    return RolloutWorker(make_env_creator("CartPole-v1"), PPOTorchPolicy, config)


def sampling(num_envs: int, hiddens: list[int], repeats: int, steps: int) -> dict:
    worker = sampling_worker(num_envs, hiddens)
    rates = side_common.rates(lambda: worker.sample().count, repeats, steps)
    return {"rates": rates, "torch_threads": torch.get_num_threads()}


def main() -> None:
    side_common.main(__doc__, list(TUNED), time_to, sampling)


if __name__ == "__main__":
    main()
