"""PPO's default config: the common keys plus PPO's own, each documented, and their schema."""

from plugrl.config import with_common_config
from plugrl.config_schema import (
    CommonConfig,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    Schedule,
    UnitFloat,
)

DEFAULT_CONFIG = with_common_config(
    {
        # Train a value function (critic); needed for GAE.
        "use_critic": True,
        # Generalized Advantage Estimation; otherwise plain discounted returns.
        "use_gae": True,
        # GAE lambda.
        "lambda": 1.0,
        # Initial KL penalty coefficient (0 turns the penalty off).
        "kl_coeff": 0.2,
        # Steps per env per sample() call.
        "rollout_fragment_length": 200,
        # Steps per training batch.
        "train_batch_size": 4000,
        # Minibatch size within each SGD epoch.
        "sgd_minibatch_size": 128,
        # Shuffle rows before cutting minibatches.
        "shuffle_sequences": True,
        # SGD epochs over each training batch.
        "num_sgd_iter": 30,
        # Learning rate.
        "lr": 5e-5,
        # Piecewise-linear learning rate, [[timestep, lr], ...]; overrides lr when set.
        "lr_schedule": None,
        # Weight of the value loss in the total loss.
        "vf_loss_coeff": 1.0,
        # Entropy bonus coefficient.
        "entropy_coeff": 0.0,
        # Piecewise-linear entropy coefficient, [[timestep, coeff], ...].
        "entropy_coeff_schedule": None,
        # Surrogate clip range (epsilon).
        "clip_param": 0.3,
        # Clip range of value predictions around the previous ones; sensitive to reward scale.
        "vf_clip_param": 10.0,
        # Clip the global gradient norm to this value (None = no clipping).
        "grad_clip": None,
        # Target KL divergence for the adaptive penalty.
        "kl_target": 0.01,
        # Plain SGD over the whole batch (SyncSamplesOptimizer) instead of minibatches.
        "simple_optimizer": False,
        "batch_mode": "truncate_episodes",
        "observation_filter": "NoFilter",
    }
)


class PPOConfig(CommonConfig):
    """The type and range of each of PPO's own keys."""

    use_critic: bool
    use_gae: bool
    lambda_: UnitFloat
    kl_coeff: NonNegativeFloat
    sgd_minibatch_size: PositiveInt
    shuffle_sequences: bool
    num_sgd_iter: PositiveInt
    lr_schedule: Schedule | None
    vf_loss_coeff: NonNegativeFloat
    entropy_coeff: NonNegativeFloat
    entropy_coeff_schedule: Schedule | None
    clip_param: PositiveFloat
    vf_clip_param: PositiveFloat
    grad_clip: PositiveFloat | None
    kl_target: NonNegativeFloat
    simple_optimizer: bool
