"""Off-policy estimation: how well a policy would do, judged from episodes another policy
(the behaviour policy, whose ``action_prob`` the data holds) played.

Per-decision importance sampling (Precup et al. 2000): with ``p_t`` the product of the ratios
``pi(a_i|s_i) / mu(a_i|s_i)`` for ``i <= t``, the episode's value under ``pi`` is estimated
as ``sum_t gamma^t p_t r_t`` (``"is"``), or with ``p_t`` divided by its mean over the episodes
seen so far at that step (``"wis"``: weighted, biased but of much lower variance). Each
estimate reports ``V_prev`` (the discounted return the behaviour policy got), ``V_step_IS`` /
``V_step_WIS`` and ``V_gain_est`` (their ratio: above 1 means ``pi`` is estimated better).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from plugrl.errors import ConfigError, OfflineDataError
from plugrl.sample_batch import SampleBatch

ESTIMATORS = ("is", "wis", "simulation")


@dataclass
class OffPolicyEstimate:
    """One episode's estimate: ``estimator_name`` and its ``metrics``."""

    estimator_name: str
    metrics: dict[str, float] = field(default_factory=dict)


class OffPolicyEstimator:
    """Estimates the value of ``policy`` from episodes of another one.

    Args:
        policy: the policy to evaluate; it must give the probability of a logged action
            (:meth:`~plugrl.policy.TemplatePolicy.compute_log_likelihoods`).
        gamma: the discount.
    """

    name = "off_policy"

    def __init__(self, policy: Any, gamma: float):
        self.policy = policy
        self.gamma = float(gamma)

    def estimate(
        self, episode: SampleBatch, target_prob: np.ndarray | None = None
    ) -> OffPolicyEstimate:
        """The estimate for one episode (rows of one ``eps_id``, in order); ``target_prob``:
        the policy's probabilities of its actions, when already computed."""
        behaviour = _column(episode, SampleBatch.ACTION_PROB)
        target = self.action_prob(episode) if target_prob is None else target_prob
        ratios = np.cumprod(target / np.maximum(behaviour, 1e-12))
        rewards = _column(episode, SampleBatch.REWARDS)
        discounts = self.gamma ** np.arange(episode.count)
        value_prev = float(np.sum(discounts * rewards))
        value_new = float(np.sum(discounts * self.weights(ratios) * rewards))
        return OffPolicyEstimate(
            self.name,
            {
                "V_prev": value_prev,
                f"V_step_{self.name.upper()}": value_new,
                "V_gain_est": value_new / max(1e-8, value_prev),
            },
        )

    def weights(self, ratios: np.ndarray) -> np.ndarray:
        """What each step's reward is weighted with, from the cumulative ratios."""
        raise NotImplementedError

    def action_prob(self, batch: SampleBatch) -> np.ndarray:
        """The probabilities ``policy`` gives the logged actions of ``batch``."""
        logp = self.policy.compute_log_likelihoods(
            batch[SampleBatch.ACTIONS], batch[SampleBatch.OBS]
        )
        return np.exp(np.asarray(logp, dtype=np.float64))


class ImportanceSamplingEstimator(OffPolicyEstimator):
    """``"is"``: each step weighted by its cumulative ratio."""

    name = "is"

    def weights(self, ratios: np.ndarray) -> np.ndarray:
        return ratios


class WeightedImportanceSamplingEstimator(OffPolicyEstimator):
    """``"wis"``: each step's cumulative ratio divided by the mean of the cumulative ratios at
    that step over every episode estimated so far (this one included)."""

    name = "wis"

    def __init__(self, policy: Any, gamma: float):
        super().__init__(policy, gamma)
        self._sums: dict[int, float] = defaultdict(float)
        self._counts: dict[int, int] = defaultdict(int)

    def weights(self, ratios: np.ndarray) -> np.ndarray:
        means = np.empty_like(ratios)
        for t, ratio in enumerate(ratios):
            self._sums[t] += float(ratio)
            self._counts[t] += 1
            means[t] = self._sums[t] / self._counts[t]
        return ratios / np.maximum(means, 1e-12)


def make_estimators(names: list[str], policy: Any, gamma: float) -> list[OffPolicyEstimator]:
    """The estimators of ``input_evaluation`` (``"simulation"`` is the sampler's business)."""
    classes = {"is": ImportanceSamplingEstimator, "wis": WeightedImportanceSamplingEstimator}
    unknown = [n for n in names if n not in ESTIMATORS]
    if unknown:
        raise ConfigError(
            f"input_evaluation: unknown estimator {unknown[0]!r}; use any of {list(ESTIMATORS)}."
        )
    return [classes[n](policy, gamma) for n in names if n in classes]


def _column(batch: SampleBatch, name: str) -> np.ndarray:
    if name not in batch:
        raise OfflineDataError(
            f"Off-policy estimation needs the column {name!r}, which the input lacks: write it "
            "(the sampler writes action_prob for stochastic policies), or set "
            "input_evaluation: [] to turn estimation off."
        )
    return np.asarray(batch[name], dtype=np.float64)
