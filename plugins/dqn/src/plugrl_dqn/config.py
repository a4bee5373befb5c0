"""DQN's and SimpleQ's default configs: the common keys plus their own, each documented, and
their schemas."""

from plugrl.config import with_common_config
from plugrl.config_schema import (
    CommonConfig,
    FiniteFloat,
    Function,
    LayerSizes,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Schedule,
    UnitFloat,
)

DEFAULT_CONFIG = with_common_config(
    {
        # --- model ---
        # Hidden layers of the Q head, on top of the model's fcnet_hiddens trunk.
        "hiddens": [256],
        # Separate state-value and advantage streams (dueling architecture).
        "dueling": True,
        # Pick the next action with the online network, value it with the target network.
        "double_q": True,
        # Sum this many rewards before bootstrapping.
        "n_step": 1,
        # Distributional DQN (C51): predict returns as a distribution on num_atoms evenly
        # spaced values in [v_min, v_max]; 1 predicts expected values.
        "num_atoms": 1,
        "v_min": -10.0,
        "v_max": 10.0,
        # Noisy-net layers in the Q head, initial noise sigma0; not implemented.
        "noisy": False,
        "sigma0": 0.5,
        # --- exploration ---
        "exploration_config": {
            "type": "EpsilonGreedy",
            "initial_epsilon": 1.0,
            "final_epsilon": 0.02,
            "epsilon_timesteps": 10000,
        },
        "evaluation_config": {"explore": False},
        # --- training ---
        # Sampled env steps per train() iteration (and min_iter_time_s at least).
        "timesteps_per_iteration": 1000,
        "min_iter_time_s": 0,
        # Copy the online network into the target network every this many sampled steps.
        "target_network_update_freq": 500,
        # Rows the replay buffer keeps.
        "buffer_size": 50000,
        # Prioritized replay (proportional); its priority exponent, importance-weight exponent
        # (annealed linearly to the final value over the given sampled steps) and priority
        # offset.
        "prioritized_replay": True,
        "prioritized_replay_alpha": 0.6,
        "prioritized_replay_beta": 0.4,
        "final_prioritized_replay_beta": 0.4,
        "prioritized_replay_beta_annealing_timesteps": 20000,
        "prioritized_replay_eps": 1e-6,
        # Save the replay buffer's rows in checkpoints (can be large). Without them a restored
        # trainer keeps its counters and schedules, and refills the buffer up to
        # learning_starts rows before it learns again.
        "store_buffer_in_checkpoints": False,
        # Hook run on each replayed batch: fn(batch, policies, train_batch_size) -> batch.
        "before_learn_on_batch": None,
        # Rows trained per row sampled; None: one replayed batch per sampling round.
        "training_intensity": None,
        "lr": 5e-4,
        # Piecewise-linear learning rate, [[timestep, lr], ...].
        "lr_schedule": None,
        # Epsilon of the Adam optimizer (added to the denominator for numerical stability).
        "adam_epsilon": 1e-8,
        # Clip the global gradient norm to this value (None = no clipping).
        "grad_clip": 40,
        # Rows in the replay buffer before learning starts.
        "learning_starts": 1000,
        "rollout_fragment_length": 4,
        # Rows per replayed batch.
        "train_batch_size": 32,
        # Priorities computed on the workers (Ape-X); not supported.
        "worker_side_prioritization": False,
    }
)

SIMPLE_Q_DEFAULT_CONFIG = with_common_config(
    {
        key: DEFAULT_CONFIG[key]
        for key in (
            "exploration_config",
            "evaluation_config",
            "timesteps_per_iteration",
            "min_iter_time_s",
            "target_network_update_freq",
            "buffer_size",
            "store_buffer_in_checkpoints",
            "before_learn_on_batch",
            "training_intensity",
            "lr",
            "lr_schedule",
            "adam_epsilon",
            "grad_clip",
            "learning_starts",
            "rollout_fragment_length",
            "train_batch_size",
        )
    }
)


class SimpleQConfig(CommonConfig):
    """The type and range of each of SimpleQ's own keys (replay and target network)."""

    target_network_update_freq: PositiveInt
    buffer_size: PositiveInt
    store_buffer_in_checkpoints: bool
    before_learn_on_batch: Function | None
    training_intensity: PositiveFloat | None
    lr_schedule: Schedule | None
    adam_epsilon: NonNegativeFloat
    grad_clip: PositiveFloat | None
    learning_starts: NonNegativeInt


class DQNConfig(SimpleQConfig):
    """SimpleQ's keys plus DQN's: the Q head, n-step returns, distributional and prioritized
    replay."""

    hiddens: LayerSizes
    dueling: bool
    double_q: bool
    n_step: PositiveInt
    num_atoms: PositiveInt
    v_min: FiniteFloat
    v_max: FiniteFloat
    noisy: bool
    sigma0: NonNegativeFloat
    prioritized_replay: bool
    prioritized_replay_alpha: NonNegativeFloat
    prioritized_replay_beta: UnitFloat
    final_prioritized_replay_beta: UnitFloat
    prioritized_replay_beta_annealing_timesteps: NonNegativeInt
    prioritized_replay_eps: PositiveFloat
    worker_side_prioritization: bool
