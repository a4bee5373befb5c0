"""PG's default config: the common keys plus its own, each documented, and their schema."""

from plugrl import with_common_config
from plugrl.config_schema import CommonConfig

DEFAULT_CONFIG = with_common_config(
    {
        # Sample whole episodes: without a critic, a cut episode's return cannot be completed.
        "batch_mode": "complete_episodes",
        # Steps per env per sample() call (complete_episodes: at least this many, in episodes).
        "rollout_fragment_length": 200,
        # Steps per update (one gradient step on the whole batch).
        "train_batch_size": 200,
        # Learning rate (Adam).
        "lr": 0.0004,
        # Rescale each batch's returns to zero mean and unit std before the update (a baseline
        # that needs no critic); False uses the plain discounted returns.
        "standardize_returns": True,
    }
)


class PGConfig(CommonConfig):
    """The type of PG's own key."""

    standardize_returns: bool
