"""PPO's learner with ``num_gpus: 1`` against the CPU, on the machine it runs on (it needs a
CUDA device for the GPU column; without one it prints the CPU's alone).

- ``learn``: seconds per trained step of PPO's SGD (10 epochs of 256-step minibatches, as
  ``remote_costs.py`` measures for its projection) on one batch sampled beforehand, for
  CartPole with fully connected networks of growing width and for 84x84x4 images with the
  default vision network (Atari's input size; random pixels, so only the cost is real).
- ``time-to``: PPO's tuned CartPole example to a mean return of 450, seeds 0 and 1, with
  ``num_gpus`` 0 and 1 (with no Ray workers the learner's worker also samples, so with a GPU
  it acts there too, one small forward pass per env step).

The CPU column uses the config's thread count (``num_cpus_for_driver``: 1), as a user's run
does. Each figure is printed as one JSON line, then a table.
"""

from __future__ import annotations

import argparse
import json
import tempfile

import gymnasium as gym
import numpy as np
import plugrl_side
import side_common
import torch

from plugrl.registry import get_trainer_class, register_env

SGD = {  # one batch: 8 envs x 200 steps, 10 epochs of 256-step minibatches
    "num_envs_per_worker": 8,
    "rollout_fragment_length": 200,
    "train_batch_size": 1600,
    "sgd_minibatch_size": 256,
    "num_sgd_iter": 10,
}
CASES = {
    "CartPole, [64, 64]": {"env": "CartPole-v1", "model": {"fcnet_hiddens": [64, 64]}},
    "CartPole, [256, 256]": {"env": "CartPole-v1", "model": {"fcnet_hiddens": [256, 256]}},
    "CartPole, [1024, 1024]": {"env": "CartPole-v1", "model": {"fcnet_hiddens": [1024, 1024]}},
    "84x84x4 images, vision net": {"env": "RandomImages", "num_sgd_iter": 2},
}


class RandomImages(gym.Env):
    """84x84x4 random uint8 frames, 6 actions, episodes of 100 steps."""

    observation_space = gym.spaces.Box(0, 255, (84, 84, 4), np.uint8)
    action_space = gym.spaces.Discrete(6)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._t = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        self._t += 1
        return self.observation_space.sample(), float(action == 0), False, self._t >= 100, {}


def learn_cost(case: str, gpus: int, repeats: int) -> dict:
    """Median seconds per trained step of the optimizer's ``learn`` on one sampled batch."""
    config = {**SGD, **CASES[case], "num_gpus": gpus, "seed": 0}
    with tempfile.TemporaryDirectory() as logdir:
        trainer = get_trainer_class("PPO")(config=config, logdir=logdir)
        try:
            batch = trainer.workers.local_worker().sample()

            def learn() -> None:
                trainer.optimizer.learn(batch.copy())
                if gpus:
                    torch.cuda.synchronize()  # the GPU's work done before the clock stops

            seconds = side_common.median_time(learn, repeats) / batch.count
        finally:
            trainer.stop()
    return {"figure": "learn", "case": case, "gpus": gpus, "s_per_step": seconds}


def time_to(seed: int, gpus: int) -> dict:
    """Seconds (construction included) and steps for the tuned example to reach 450."""
    ((seconds, steps),) = plugrl_side.time_to("PPO", [450], seed, 300_000, num_gpus=gpus)["reached"]
    return {"figure": "time-to", "seed": seed, "gpus": gpus, "seconds": seconds, "steps": steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1])
    args = parser.parse_args()
    register_env("RandomImages", lambda _: RandomImages())
    gpus = [0, 1] if torch.cuda.is_available() else [0]
    if gpus[-1]:
        print(f"# {torch.cuda.get_device_name(0)}, torch {torch.__version__}", flush=True)
    rows = []
    for case in CASES:
        for n in gpus:
            rows.append(learn_cost(case, n, args.repeats))
            print(json.dumps(rows[-1]), flush=True)
    for seed in args.seeds:
        for n in gpus:
            rows.append(time_to(seed, n))
            print(json.dumps(rows[-1]), flush=True)
    print("\n| PPO learner, us per trained step | CPU (1 thread) | GPU | CPU / GPU |")
    print("|---|---|---|---|")
    for case in CASES:
        cost = {r["gpus"]: r["s_per_step"] * 1e6 for r in rows if r.get("case") == case}
        gpu = f"{cost[1]:,.1f} | {cost[0] / cost[1]:.2f}" if 1 in cost else "- | -"
        print(f"| {case} | {cost[0]:,.1f} | {gpu} |")
    print("\n| PPO tuned example to 450 | num_gpus 0 | num_gpus 1 |")
    print("|---|---|---|")
    for seed in args.seeds:
        runs = {r["gpus"]: r for r in rows if r.get("seed") == seed}
        cells = [f"{runs[n]['seconds']:.1f} s ({runs[n]['steps']:,} steps)" for n in gpus]
        print(f"| seed {seed} | " + " | ".join(cells + ["-"] * (2 - len(cells))) + " |")


if __name__ == "__main__":
    main()
