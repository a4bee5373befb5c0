"""``plugrl rollout``: run a trained agent from a checkpoint in a fresh env.

The trainer, env and gymnasium modules are imported when the command runs, so ``plugrl
--help`` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import TYPE_CHECKING, Any

import click

from plugrl.cli.main import log_level_name, parse_json_option, verbose_option
from plugrl.jsonable import to_jsonable

if TYPE_CHECKING:
    import gymnasium as gym


def _has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def make_rollout_env(
    config: dict[str, Any], env_creator: Any, render: bool, video: str | None = None
) -> gym.Env:
    """A fresh env; a gymnasium id renders with ``render_mode="human"`` when asked and
    possible, and a warning is printed once when it is not. With ``video``, every episode is
    recorded into that folder instead (``rollout-episode-<n>.mp4``)."""
    import gymnasium as gym

    from plugrl.env.creator import EnvContext
    from plugrl.env.video import record_video, with_render_mode
    from plugrl.registry import registry

    env_id, env_config = config.get("env"), dict(config.get("env_config") or {})
    if video:
        env = env_creator(with_render_mode(EnvContext(env_config)))
        return record_video(env, video, name_prefix="rollout", episode_trigger=lambda n: True)
    if render:
        reason = None
        if not _has_display():
            reason = "no display (DISPLAY is not set)"
        elif not (
            isinstance(env_id, str) and env_id not in registry("envs") and env_id in gym.registry
        ):
            reason = f"{env_id!r} is not a gymnasium id"
        else:
            try:
                env = gym.make(env_id, render_mode="human", **env_config)
                env.reset()
                return env
            except Exception as exc:  # pygame missing, no video device...
                reason = f"{type(exc).__name__}: {exc}"
        click.echo(
            f"plugrl: warning: not rendering: {reason}. Use --no-render to hide this.", err=True
        )
    return env_creator(EnvContext(env_config))


@click.command()
@click.argument("checkpoint", type=click.Path())
@click.option("--run", "run", help="Algorithm (default: the one recorded in the checkpoint).")
@click.option("--env", help="Env (default: the checkpoint config's env).")
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=10000,
    show_default=True,
    help="Env steps to run (when --episodes is 0).",
)
@click.option(
    "--episodes",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Episodes to run; 0 uses --steps.",
)
@click.option("--no-render", is_flag=True, help="Don't render the env.")
@click.option(
    "--video",
    type=click.Path(file_okay=False),
    help="Record every episode as an MP4 file in this folder (instead of rendering).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Write episodes as JSON lines: obs, actions and rewards of every step.",
)
@click.option("--config", "config_json", metavar="JSON", help="Config overrides as JSON.")
@click.option(
    "--explore/--no-explore",
    default=None,
    help="Sample actions (explore) or act greedily (default: the config's 'explore').",
)
@verbose_option
def rollout(
    checkpoint: str,
    run: str | None,
    env: str | None,
    steps: int,
    episodes: int,
    no_render: bool,
    video: str | None,
    out: str | None,
    config_json: str | None,
    explore: bool | None,
    verbose: int,
) -> int:
    """Roll out the agent saved in CHECKPOINT and print each episode's reward."""
    from plugrl.builtins.loggers import NullSink
    from plugrl.env.creator import env_name
    from plugrl.registry import get_trainer_class
    from plugrl.trainer import Trainer

    overrides = parse_json_option("--config", config_json)
    overrides.update(num_workers=0, evaluation_interval=None, num_envs_per_worker=1, monitor=False)
    if log_level_name(verbose):
        overrides["log_level"] = log_level_name(verbose)
    trainer_cls = get_trainer_class(run) if run else Trainer
    with tempfile.TemporaryDirectory(prefix="plugrl-rollout-") as tmp:
        trainer = trainer_cls.from_checkpoint(
            checkpoint, overrides, env=env, logger_creator=lambda cfg: NullSink(tmp)
        )
        try:
            rollout_env = make_rollout_env(
                trainer.config, trainer.env_creator, not no_render, video
            )
            name = type(trainer).__name__
            click.echo(f"Rolling out {name} from {checkpoint} on {env_name(trainer.config['env'])}")
            rewards = _run_episodes(trainer, rollout_env, steps, episodes, out, explore)
        finally:
            trainer.stop()
    if rewards:
        mean = sum(rewards) / len(rewards)
        click.echo(f"Mean reward over {len(rewards)} episodes: {mean:.2f}")
    if out:
        click.echo(f"Episodes written to {out}")
    if video:
        click.echo(f"Videos written to {video}")
    return 0


def _multi_agent_actor(trainer: Any) -> Any:
    """``act(observations, explore) -> actions`` for one episode of a multi-agent env, each
    agent through the policy the trainer's mapping function gives it."""
    from plugrl.sampling.episode import MultiAgentEpisode

    worker = trainer.workers.local_worker()
    episode = MultiAgentEpisode(0, worker.policy_map, worker.policy_mapping_fn, worker)

    def act(observations: dict, explore: bool | None) -> dict:
        return {
            agent_id: trainer.compute_single_action(
                obs, policy_id=episode.policy_for(agent_id), explore=explore
            )
            for agent_id, obs in observations.items()
        }

    return act


def _run_episodes(
    trainer: Any, env: gym.Env, steps: int, episodes: int, out: str | None, explore: bool | None
) -> list[float]:
    from plugrl.env.multi_agent_env import ALL, MultiAgentEnv

    sink = open(out, "w") if out else None  # noqa: SIM115
    rewards: list[float] = []
    total_steps = 0
    # empty unless recurrent (multi-agent rollouts act without state)
    policy = None if isinstance(env, MultiAgentEnv) else trainer.get_policy()
    initial_state = policy.get_initial_state() if policy is not None else []
    try:
        while (len(rewards) < episodes) if episodes else (total_steps < steps):
            obs, _ = env.reset()
            record: dict[str, list] = {"obs": [], "actions": [], "rewards": []}
            episode_reward, done = 0.0, False
            state, prev_action, prev_reward = initial_state, None, None
            act = _multi_agent_actor(trainer) if isinstance(env, MultiAgentEnv) else None
            while not done:
                if act is not None:  # every agent that observed acts; their rewards summed
                    action = act(obs, explore)
                    next_obs, agent_rewards, terminateds, truncateds, _ = env.step(action)
                    reward = sum(float(r) for r in agent_rewards.values())
                    terminated, truncated = terminateds[ALL], truncateds[ALL]
                    done_agents = {a for a in next_obs if terminateds.get(a) or truncateds.get(a)}
                    next_obs = {a: o for a, o in next_obs.items() if a not in done_agents}
                else:
                    if state:
                        action, state, _ = trainer.compute_action(
                            obs, state, prev_action, prev_reward, explore=explore
                        )
                    else:
                        action = trainer.compute_action(obs, explore=explore)
                    next_obs, reward, terminated, truncated, _ = env.step(action)
                    prev_action, prev_reward = action, float(reward)
                record["obs"].append(to_jsonable(obs))
                record["actions"].append(to_jsonable(action))
                record["rewards"].append(float(reward))
                episode_reward += float(reward)
                total_steps += 1
                obs, done = next_obs, terminated or truncated
                if not episodes and total_steps >= steps:
                    break
            rewards.append(episode_reward)
            length = len(record["rewards"])
            note = "" if done else " (cut at --steps)"
            click.echo(
                f"Episode {len(rewards)}: reward {episode_reward:.2f} in {length} steps{note}"
            )
            if sink:
                sink.write(
                    json.dumps(
                        {
                            "episode": len(rewards),
                            "reward": episode_reward,
                            "length": length,
                            "done": bool(done),
                            **record,
                        }
                    )
                    + "\n"
                )
    finally:
        env.close()
        if sink:
            sink.close()
    return rewards
