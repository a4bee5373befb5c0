"""The Stable-Baselines3 side of ``make bench``, run by the interpreter of its own environment
(``.venv-sb3``, made by ``make bench``; it has no plugrl): each subcommand prints one JSON line.

- ``time-to ALGO --seed S --thresholds 450 --budget N``: wall-clock seconds (construction
  included) and steps for the RL Zoo's tuned agent to first reach each threshold as the mean
  return of its last 100 episodes, and the process's peak RSS.
- ``sampling --num-envs 8 --hiddens 64 64``: env steps/s of PPO's rollout collection alone
  (``collect_rollouts``: acting, value estimates, the rollout buffer), one figure per repeat.
"""

from __future__ import annotations

import time

import numpy as np
import side_common
import stable_baselines3
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

# One intra-op thread, as plugrl's policies use with their one reserved CPU: for networks this
# small a second thread saves nothing, and on a busy 2-core machine its spinning costs minutes.
torch.set_num_threads(1)

# rl-baselines3-zoo's tuned CartPole-v1 settings (PPO's rates constant where the zoo anneals
# them linearly).
TUNED = {
    "PPO": {
        "n_envs": 8,
        "n_steps": 32,
        "batch_size": 256,
        "gae_lambda": 0.8,
        "gamma": 0.98,
        "n_epochs": 20,
        "ent_coef": 0.0,
        "learning_rate": 1e-3,
        "clip_range": 0.2,
    },
    "A2C": {"n_envs": 8, "ent_coef": 0.0},
}


def time_to(
    algorithm: str, thresholds: list[float], seed: int, budget: int, **overrides: object
) -> dict:
    reached: list[tuple[float, int]] = []
    start = time.perf_counter()

    class StopAt(BaseCallback):
        def _on_step(self) -> bool:
            episodes = self.model.ep_info_buffer
            if episodes and self.locals["dones"].any() and len(reached) < len(thresholds):
                mean = float(np.mean([e["r"] for e in episodes]))
                if mean >= thresholds[len(reached)]:
                    reached.append((time.perf_counter() - start, self.num_timesteps))
            return len(reached) < len(thresholds)

    params = {**TUNED[algorithm], **overrides}
    env = make_vec_env("CartPole-v1", n_envs=params.pop("n_envs", 1), seed=seed)
    agent = getattr(stable_baselines3, algorithm)(
        "MlpPolicy", env, seed=seed, device="cpu", **params
    )
    agent.learn(budget, callback=StopAt())
    reached += [(float("nan"), budget)] * (len(thresholds) - len(reached))
    return {"reached": reached, "peak_rss_mib": side_common.peak_rss_mib()}


def sampling(num_envs: int, hiddens: list[int], repeats: int, steps: int) -> dict:
    env = make_vec_env("CartPole-v1", n_envs=num_envs, seed=0)
    n_steps = 200  # as plugrl's rollout_fragment_length in the same figure
    agent = stable_baselines3.PPO(
        "MlpPolicy",
        env,
        n_steps=n_steps,
        batch_size=n_steps * num_envs,
        seed=0,
        device="cpu",
        policy_kwargs={"net_arch": hiddens},
    )
    _, callback = agent._setup_learn(10**9, callback=None)
    callback.on_training_start(locals(), globals())

    def collect() -> int:
        agent.collect_rollouts(agent.env, callback, agent.rollout_buffer, n_steps)
        return n_steps * num_envs

    rates = side_common.rates(collect, repeats, steps)
    return {"rates": rates, "torch_threads": torch.get_num_threads()}


def main() -> None:
    side_common.main(__doc__, list(TUNED), time_to, sampling)


if __name__ == "__main__":
    main()
