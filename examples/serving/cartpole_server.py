"""A policy server for CartPole: a trainer without an env learns from the episodes that
simulator processes (``cartpole_client.py``) play against it over HTTP.

    python examples/serving/cartpole_server.py --run PPO          # serves on 127.0.0.1:9900
    python examples/serving/cartpole_client.py                    # in another shell
    python examples/serving/cartpole_client.py --inference-mode local   # or: acting locally

With ``--num-workers N`` the trainer runs N remote rollout workers (on Ray) and worker ``i``
serves on ``--port + i`` (9901 ... 990N), each learning from the clients pointed at it; the
trainer's own worker then serves nothing. The protocol is documented in docs/serving.md.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl import PolicyServerInput
from plugrl.registry import get_trainer_class

# The simulator's spaces: the server steps no env, so the config says what it will be sent.
OBSERVATION_SPACE = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)  # cart and pole state
ACTION_SPACE = gym.spaces.Discrete(2)  # push the cart left or right

# Small configs that learn CartPole from a few thousand served steps.
CONFIGS: dict[str, dict[str, Any]] = {
    "PPO": {
        "rollout_fragment_length": 64,
        "train_batch_size": 256,
        "sgd_minibatch_size": 64,
        "num_sgd_iter": 8,
        "gamma": 0.98,
        "lambda": 0.8,
        "lr": 0.002,
        "clip_param": 0.2,
        "kl_coeff": 0.0,
        "vf_loss_coeff": 0.5,
        "model": {"fcnet_hiddens": [32, 32]},
    },
    "DQN": {
        "rollout_fragment_length": 16,
        "training_intensity": 16,
        "model": {"fcnet_hiddens": [64]},
        "hiddens": [64],
        "n_step": 3,
        "lr": 0.001,
        "train_batch_size": 64,
        "learning_starts": 500,
        "target_network_update_freq": 500,
        "timesteps_per_iteration": 500,
        "exploration_config": {
            "type": "EpsilonGreedy",
            "initial_epsilon": 1.0,
            "final_epsilon": 0.02,
            "epsilon_timesteps": 5000,
        },
    },
}


def server_config(
    run: str,
    address: str = "127.0.0.1",
    port: int = 9900,
    num_workers: int = 0,
    token: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """The trainer config of a CartPole server: no env, the simulator's spaces, and a
    :class:`PolicyServerInput` per sampling worker on ``port + worker_index``."""

    def serve(ioctx: Any) -> PolicyServerInput:
        return PolicyServerInput(ioctx, address, port + ioctx.worker_index, token=token)

    return {
        **CONFIGS[run],
        "env": None,
        "observation_space": OBSERVATION_SPACE,
        "action_space": ACTION_SPACE,
        "input": serve,
        # the served episodes are the policy's own: no off-policy estimates of them
        "input_evaluation": [],
        "num_workers": num_workers,
        # the mean return is over the last 20 episodes the clients ended
        "metrics_smoothing_episodes": 20,
        **overrides,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", choices=sorted(CONFIGS), default="PPO")
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9900)
    parser.add_argument("--num-workers", type=int, default=0)
    parser.add_argument("--token", default=None, help="a shared secret clients must send")
    parser.add_argument("--framework", default="torch")
    parser.add_argument("--stop-reward", type=float, default=450.0)
    parser.add_argument("--stop-timesteps", type=int, default=500_000)
    args = parser.parse_args(argv)
    config = server_config(
        args.run,
        args.address,
        args.port,
        args.num_workers,
        args.token,
        framework=args.framework,
    )
    trainer = get_trainer_class(args.run)(config=config)
    ports = (
        [args.port]
        if not args.num_workers
        else [args.port + i for i in range(1, args.num_workers + 1)]
    )
    print(f"{args.run} serving on {args.address}, ports {ports}", flush=True)
    start = time.time()
    try:
        while True:
            result = trainer.train()
            line = {
                "iteration": result["training_iteration"],
                "timesteps_total": result["timesteps_total"],
                "episode_reward_mean": result["episode_reward_mean"],
                "episodes_this_iter": result["episodes_this_iter"],
                "time_s": round(time.time() - start, 1),
            }
            print(json.dumps(line), flush=True)
            reward = result["episode_reward_mean"]
            if reward >= args.stop_reward or result["timesteps_total"] >= args.stop_timesteps:
                break
        print(f"checkpoint: {trainer.save()}", flush=True)
    finally:
        trainer.stop()


if __name__ == "__main__":
    main()
