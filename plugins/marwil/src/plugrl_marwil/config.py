"""MARWIL's and BC's default configs: the common keys plus their own, each documented, and
their schema."""

from plugrl.config import with_common_config
from plugrl.config_schema import CommonConfig, NonNegativeFloat, PositiveFloat, UnitFloat

DEFAULT_CONFIG = with_common_config(
    {
        # Inverse temperature of the advantage weights exp(beta * advantage / norm): higher
        # imitates the better actions of the data more sharply; 0.0 is behaviour cloning.
        "beta": 1.0,
        # Weight of the value loss (0.5 * squared advantage) in the total loss.
        "vf_coeff": 1.0,
        # Starting value of the moving average of the squared advantage, whose square root
        # normalises the advantages in the weights.
        "moving_average_sqd_adv_norm_start": 100.0,
        # Step size of that moving average towards each batch's mean squared advantage.
        "moving_average_sqd_adv_norm_update_rate": 1e-8,
        # Steps per update (one gradient step on the whole batch).
        "train_batch_size": 2000,
        # Clip the global gradient norm to this value (None = no clipping).
        "grad_clip": None,
        # Compute each episode's returns (value_targets) from the rewards of what is read
        # from the input: logs need not hold them.
        "postprocess_inputs": True,
    }
)

BC_DEFAULT_CONFIG = {
    **DEFAULT_CONFIG,
    # Behaviour cloning: every action of the data weighs the same, and no value function is
    # trained.
    "beta": 0.0,
    # Cloning needs no returns.
    "postprocess_inputs": False,
}


class MARWILConfig(CommonConfig):
    """The type and range of each of MARWIL's own keys."""

    beta: NonNegativeFloat
    vf_coeff: NonNegativeFloat
    moving_average_sqd_adv_norm_start: PositiveFloat
    moving_average_sqd_adv_norm_update_rate: UnitFloat
    grad_clip: PositiveFloat | None
