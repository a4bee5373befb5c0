"""One client of the serving benchmark (``bench.py``): connects to a policy server, says
``ready``, waits for a line on stdin, then plays CartPole for ``--seconds`` and prints one
JSON line: the number of calls and env steps, and each call's latency in microseconds."""

from __future__ import annotations

import argparse
import json
import sys
import time

import gymnasium as gym

from plugrl import PolicyClient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", required=True)
    parser.add_argument("--inference-mode", default="remote")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    client = PolicyClient(args.server, args.inference_mode, update_interval=1.0)
    env = gym.make("CartPole-v1")
    obs, _ = env.reset(seed=args.seed)
    print("ready", flush=True)
    sys.stdin.readline()
    latencies: list[int] = []
    steps = 0
    clock = time.perf_counter

    def timed(call, *call_args):
        start = clock()
        out = call(*call_args)
        latencies.append(int((clock() - start) * 1e6))
        return out

    end = clock() + args.seconds
    while clock() < end:
        episode_id = timed(client.start_episode)
        obs, _ = env.reset()
        done = False
        while not done:
            action = timed(client.get_action, episode_id, obs)
            obs, reward, terminated, truncated, _ = env.step(action)
            timed(client.log_returns, episode_id, reward)
            steps += 1
            done = terminated or truncated
        timed(client.end_episode, episode_id, obs, truncated and not terminated)
    seconds = args.seconds + max(0.0, clock() - end)
    client.close()
    print(
        json.dumps({"calls": len(latencies), "steps": steps, "seconds": seconds, "us": latencies})
    )


if __name__ == "__main__":
    main()
