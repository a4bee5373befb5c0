"""A3C's and A2C's default configs: the common keys plus actor-critic's own, each documented,
and their schemas."""

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
        # Train a value function (critic); needed for GAE and for bootstrapping cut fragments.
        "use_critic": True,
        # Generalized Advantage Estimation; otherwise n-step returns minus the critic's values.
        "use_gae": True,
        # GAE lambda (1.0: Monte-Carlo returns bootstrapped at the end of each fragment).
        "lambda": 1.0,
        # Steps per env per sample() call: the "n" of the n-step returns.
        "rollout_fragment_length": 10,
        # Clip the global gradient norm to this value (None = no clipping).
        "grad_clip": 40.0,
        # Learning rate (Adam).
        "lr": 1e-4,
        # Piecewise-linear learning rate, [[timestep, lr], ...]; overrides lr when set.
        "lr_schedule": None,
        # Epsilon of the Adam optimizer (added to the denominator for numerical stability).
        "adam_epsilon": 1e-8,
        # Weight of the value loss (0.5 * squared error) in the total loss.
        "vf_loss_coeff": 0.5,
        # Entropy bonus coefficient.
        "entropy_coeff": 0.01,
        # Piecewise-linear entropy coefficient, [[timestep, coeff], ...].
        "entropy_coeff_schedule": None,
        # A3C computes gradients on remote workers: it needs at least one.
        "num_workers": 2,
        # Unused by A3C: each gradient is over one worker's sample(), i.e.
        # rollout_fragment_length x num_envs_per_worker steps.
        "train_batch_size": 200,
        # AsyncGradientsOptimizer arguments: gradients applied per optimizer step.
        "optimizer": {"grads_per_step": 100},
    }
)

A2C_DEFAULT_CONFIG = {
    **DEFAULT_CONFIG,
    # Sampling happens in the driver by default; num_workers > 0 samples on Ray actors.
    "num_workers": 0,
    "rollout_fragment_length": 20,
    # Steps per update.
    "train_batch_size": 200,
    # Accumulate gradients over microbatches of this many steps, then make one update
    # (None: one gradient over the whole train batch).
    "microbatch_size": None,
    # SyncSamplesOptimizer / MicrobatchOptimizer take no extra arguments.
    "optimizer": {},
}


class A3CConfig(CommonConfig):
    """The type and range of each of A3C's own keys."""

    use_critic: bool
    use_gae: bool
    lambda_: UnitFloat
    grad_clip: PositiveFloat | None
    lr_schedule: Schedule | None
    adam_epsilon: NonNegativeFloat
    vf_loss_coeff: NonNegativeFloat
    entropy_coeff: NonNegativeFloat
    entropy_coeff_schedule: Schedule | None


class A2CConfig(A3CConfig):
    """A3C's keys plus A2C's microbatch_size."""

    microbatch_size: PositiveInt | None
