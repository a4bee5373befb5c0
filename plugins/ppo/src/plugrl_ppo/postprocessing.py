"""PPO's trajectory postprocessing (the kernel's GAE) and its adaptive KL coefficient."""

from __future__ import annotations

from typing import Any

from plugrl.postprocessing import postprocess_advantages

# GAE with bootstrapping of cut or truncated trajectories (the kernel's, shared with A2C/A3C).
postprocess_ppo_gae = postprocess_advantages


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
