"""PPO on MinAtar Breakout (``MinAtar/Breakout-v1``: 10x10x4 images, 3 actions) with the
default vision network: the learning curve of a small image benchmark that fits a 2-core
machine.

Run with ``make bench-minatar`` (``--timesteps``, ``--seed``, ``--env``, ``--config``).
Prints one line per few iterations (steps, mean reward of the last 100 episodes,
episodes, seconds) and a summary; not part of the tests. Needs ``minatar``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

from plugrl_ppo import PPOTrainer

CONFIG = {
    "framework": "torch",
    "num_workers": 0,
    "num_envs_per_worker": 8,
    "rollout_fragment_length": 128,
    "train_batch_size": 1024,
    "sgd_minibatch_size": 256,
    "num_sgd_iter": 4,
    "lr": 5e-4,
    "gamma": 0.99,
    "lambda": 0.95,
    "entropy_coeff": 0.01,
    "clip_param": 0.2,
    "vf_clip_param": 10.0,
    # the default 10x10 convolutions (16 3x3 filters), then one hidden layer
    "model": {"fcnet_hiddens": [128], "fcnet_activation": "relu"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="MinAtar/Breakout-v1")
    parser.add_argument("--timesteps", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=10, help="print every N iterations")
    parser.add_argument("--config", default="{}", help="JSON overrides of CONFIG")
    args = parser.parse_args()
    config = {**CONFIG, **json.loads(args.config), "env": args.env, "seed": args.seed}
    with tempfile.TemporaryDirectory() as logdir:
        trainer = PPOTrainer(config=config, logdir=logdir)
        start = time.time()
        print(f"PPO on {args.env}, seed {args.seed}, {args.timesteps} steps")
        print(f"{'steps':>9} {'reward':>8} {'episodes':>9} {'seconds':>8}")
        try:
            iteration, result = 0, {"timesteps_total": 0}
            while result["timesteps_total"] < args.timesteps:
                result = trainer.train()
                iteration += 1
                if iteration % args.every == 0 or result["timesteps_total"] >= args.timesteps:
                    print(
                        f"{result['timesteps_total']:>9} {result['episode_reward_mean']:>8.2f} "
                        f"{result['episodes_total']:>9} {time.time() - start:>8.0f}",
                        flush=True,
                    )
        finally:
            trainer.stop()
    seconds = time.time() - start
    print(
        f"done: {result['timesteps_total']} steps in {seconds:.0f} s "
        f"({result['timesteps_total'] / seconds:.0f} steps/s), final mean reward "
        f"{result['episode_reward_mean']:.2f}"
    )


if __name__ == "__main__":
    main()
