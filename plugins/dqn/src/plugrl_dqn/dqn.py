"""DQN: config, trainer and the framework-free pieces (replay optimizer, target updates).

Deep Q-Networks (Mnih et al. 2015) with the Rainbow-era improvements that fit a small
framework cleanly: double Q-learning, dueling heads, n-step returns and prioritized replay.
"""

from __future__ import annotations

from typing import Any

from plugrl import build_trainer
from plugrl.errors import ConfigError
from plugrl.optimizers import build_optimizer
from plugrl.policy import TargetNetwork
from plugrl.registry import registry
from plugrl_dqn.config import DEFAULT_CONFIG, DQNConfig
from plugrl_dqn.postprocessing import postprocess_nstep


def validate_config(config: dict[str, Any]) -> None:
    """Refuse settings DQN cannot train with."""
    validate_replay_config(config)
    if config["model"]["use_lstm"]:
        raise ConfigError(
            "model use_lstm=True: DQN builds its own Q-network and cannot make it recurrent "
            "(PPO, PG, A2C and A3C can). Set use_lstm to false."
        )
    if config["num_atoms"] > 1 and not config["v_min"] < config["v_max"]:
        raise ConfigError(
            f"v_min ({config['v_min']}) must be below v_max ({config['v_max']}) for "
            "distributional DQN."
        )
    if config["noisy"]:
        raise ConfigError(
            "noisy=True: noisy-net layers are not implemented in plugrl-dqn yet. Explore with "
            'exploration_config={"type": "ParameterNoise"} instead, or use noisy=False.'
        )
    if config["worker_side_prioritization"]:
        raise ConfigError(
            "worker_side_prioritization (Ape-X) is not supported: priorities are computed on "
            "the learner. Set it to False."
        )


def validate_replay_config(config: dict[str, Any]) -> None:
    """The check across keys DQN and SimpleQ share (each value's range is its schema's)."""
    if config["buffer_size"] < config["train_batch_size"]:
        raise ConfigError(
            f"buffer_size ({config['buffer_size']}) must be >= train_batch_size "
            f"({config['train_batch_size']})."
        )


def default_config() -> dict[str, Any]:
    return DEFAULT_CONFIG


def target_network_part(policy: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The target network the loss values next states with (refreshed by the trainer)."""
    return {"target_model": TargetNetwork()}


POLICY_TEMPLATE: dict[str, Any] = {
    "get_default_config": default_config,
    "postprocess_fn": postprocess_nstep,
    "make_parts": target_network_part,
}
"""What the DQN-family policies share on every framework; each adds its Q-network, loss and
optimizer."""


REPLAY_KEYS = (
    "learning_starts",
    "buffer_size",
    "prioritized_replay",
    "prioritized_replay_alpha",
    "prioritized_replay_beta",
    "final_prioritized_replay_beta",
    "prioritized_replay_beta_annealing_timesteps",
    "prioritized_replay_eps",
    "train_batch_size",
    "training_intensity",
    "before_learn_on_batch",
    "store_buffer_in_checkpoints",
    "seed",
)
"""Config keys passed on to the replay optimizer under the same names (those a config has:
SimpleQ's has no prioritized-replay keys, so it replays uniformly)."""


def make_replay_optimizer(workers: Any, config: dict[str, Any]) -> Any:
    """The registered ``SyncReplayOptimizer`` with this config's replay settings (plus any
    ``config["optimizer"]`` overrides)."""
    optimizer_class = registry("optimizers").load("SyncReplayOptimizer")
    settings = {key: config[key] for key in REPLAY_KEYS if key in config}
    return build_optimizer(optimizer_class, workers, config["optimizer"], **settings)


def get_initial_state(trainer: Any) -> dict[str, Any]:
    return {"last_target_update_ts": 0, "num_target_updates": 0}


def update_target_if_needed(trainer: Any, fetches: Any) -> None:
    """Copy the online network into the target network every ``target_network_update_freq``
    sampled steps."""
    sampled = trainer.optimizer.num_steps_sampled
    if (
        sampled - trainer.state["last_target_update_ts"]
        >= trainer.config["target_network_update_freq"]
    ):
        trainer.workers.local_worker().foreach_trainable_policy(
            lambda policy, _: policy.target_model.update()
        )
        trainer.state["last_target_update_ts"] = sampled
        trainer.state["num_target_updates"] += 1


def add_dqn_info(trainer: Any, result: dict[str, Any]) -> None:
    """Target-update counters in ``info``; each policy's exploration state (e.g.
    ``cur_epsilon``) beside its learner stats."""
    info = result["info"]
    info.update(
        last_target_update_ts=trainer.state["last_target_update_ts"],
        num_target_updates=trainer.state["num_target_updates"],
    )

    def add_exploration_info(policy: Any, policy_id: str) -> None:
        info["learner"].setdefault(policy_id, {}).update(policy.exploration.get_info())

    trainer.workers.local_worker().foreach_trainable_policy(add_exploration_info)


DQNTrainer = build_trainer(
    name="DQN",
    default_config=DEFAULT_CONFIG,
    validate_config=validate_config,
    get_initial_state=get_initial_state,
    make_policy_optimizer=make_replay_optimizer,
    after_optimizer_step=update_target_if_needed,
    after_train_result=add_dqn_info,
    config_schema=DQNConfig,
)
