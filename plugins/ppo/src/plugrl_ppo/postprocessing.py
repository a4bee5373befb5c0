"""PPO's trajectory postprocessing: GAE, bootstrapping cut or truncated trajectories."""

from __future__ import annotations

from typing import Any

from plugrl import SampleBatch, compute_advantages


def postprocess_ppo_gae(
    policy: Any, sample_batch: SampleBatch, other_agent_batches: Any = None, episode: Any = None
) -> SampleBatch:
    """Add advantages and value targets. A trajectory that ended by termination bootstraps
    with 0; one that was truncated or cut bootstraps with the critic's value of its last
    next-observation (``policy.value(obs)``, from the backend's value mixin)."""
    if sample_batch[SampleBatch.TERMINATEDS][-1]:
        last_r = 0.0
    else:
        last_r = policy.value(sample_batch[SampleBatch.NEXT_OBS][-1])
    return compute_advantages(
        sample_batch,
        last_r,
        policy.config["gamma"],
        policy.config["lambda"],
        use_gae=policy.config["use_gae"],
        use_critic=policy.config["use_critic"],
    )


class KLCoeffMixin:
    """The adaptive KL penalty coefficient, saved with the policy state."""

    def __init__(self, config: dict[str, Any]):
        self.kl_coeff = float(config["kl_coeff"])
        self.kl_target = float(config["kl_target"])

    def update_kl(self, sampled_kl: float) -> float:
        """Double-sided adaptation: x1.5 when KL is over 2x target, x0.5 when under half."""
        # plain assignments (not *=), so a backend may keep kl_coeff in a variable
        if sampled_kl > 2.0 * self.kl_target:
            self.kl_coeff = self.kl_coeff * 1.5
        elif sampled_kl < 0.5 * self.kl_target:
            self.kl_coeff = self.kl_coeff * 0.5
        return float(self.kl_coeff)

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), "kl_coeff": float(self.kl_coeff)}  # type: ignore[misc]

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)  # type: ignore[misc]
        self.kl_coeff = float(state.get("kl_coeff", self.kl_coeff))
