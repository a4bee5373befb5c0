"""A CartPole simulator that plays episodes against ``cartpole_server.py`` over HTTP: it
asks the server for actions (``--inference-mode remote``), or acts with a copy of the
server's policy refreshed every ``--update-interval`` seconds (``local``), and reports every
reward and episode end.

    python examples/serving/cartpole_client.py --server http://127.0.0.1:9900

It plays until ``--episodes`` episodes are done (0: until the server goes away).
"""

from __future__ import annotations

import argparse
import sys

import gymnasium as gym

from plugrl import PolicyClient, ServingError


def play(client: PolicyClient, env: gym.Env, seed: int | None = None) -> float:
    """One episode of ``env`` driven by ``client``; its return."""
    episode_id = client.start_episode()
    obs, _ = env.reset(seed=seed)
    total = 0.0
    while True:
        action = client.get_action(episode_id, obs)
        obs, reward, terminated, truncated, _ = env.step(action)
        client.log_returns(episode_id, reward)
        total += float(reward)
        if terminated or truncated:
            # a time limit cuts the episode short: the server bootstraps from its value
            client.end_episode(episode_id, obs, truncated=truncated and not terminated)
            return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="http://127.0.0.1:9900")
    parser.add_argument("--inference-mode", choices=["remote", "local"], default="remote")
    parser.add_argument("--update-interval", type=float, default=10.0)
    parser.add_argument("--token", default=None)
    parser.add_argument("--episodes", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    client = PolicyClient(args.server, args.inference_mode, args.update_interval, token=args.token)
    env = gym.make("CartPole-v1")
    returns: list[float] = []
    try:
        while not args.episodes or len(returns) < args.episodes:
            seed = args.seed if not returns else None  # seeded once, then it carries on
            returns.append(play(client, env, seed))
            if len(returns) % 20 == 0:
                mean = sum(returns[-20:]) / 20
                print(
                    f"{len(returns)} episodes, mean return of the last 20: {mean:.1f}", flush=True
                )
        client.close()
    except ServingError as exc:
        if exc.status is not None:  # refused: a bug in this client, or a server's limit
            raise
        print(f"the server went away after {len(returns)} episodes ({exc})", file=sys.stderr)


if __name__ == "__main__":
    main()
