"""compute_advantages against hand-computed values on a 3-step trajectory."""

from __future__ import annotations

import numpy as np
import pytest

from plugrl import Postprocessing, SampleBatch, compute_advantages

R = [1.0, 2.0, 3.0]
V = [0.5, 1.0, 1.5]


def _traj(with_vf: bool = True) -> SampleBatch:
    cols = {"rewards": np.asarray(R, np.float32)}
    if with_vf:
        cols["vf_preds"] = np.asarray(V, np.float32)
    return SampleBatch(cols)


def test_gae_matches_hand_computation():
    gamma, lam, last_r = 0.9, 0.8, 2.0
    out = compute_advantages(_traj(), last_r, gamma, lam, use_gae=True)
    d2 = 3.0 + 0.9 * 2.0 - 1.5  # 3.3
    d1 = 2.0 + 0.9 * 1.5 - 1.0  # 2.35
    d0 = 1.0 + 0.9 * 1.0 - 0.5  # 1.4
    a2 = d2
    a1 = d1 + 0.72 * a2
    a0 = d0 + 0.72 * a1
    np.testing.assert_allclose(out[Postprocessing.ADVANTAGES], [a0, a1, a2], rtol=1e-6)
    np.testing.assert_allclose(
        out[Postprocessing.VALUE_TARGETS], [a0 + 0.5, a1 + 1.0, a2 + 1.5], rtol=1e-6
    )
    assert out[Postprocessing.ADVANTAGES].dtype == np.float32


def test_gae_needs_vf_preds():
    with pytest.raises(ValueError, match="vf_preds"):
        compute_advantages(_traj(with_vf=False), 0.0, 0.9, use_gae=True)


def test_discounted_returns_without_critic():
    out = compute_advantages(_traj(with_vf=False), 0.0, 0.5, use_gae=False, use_critic=False)
    # G2 = 3, G1 = 2 + .5*3 = 3.5, G0 = 1 + .5*3.5 = 2.75
    np.testing.assert_allclose(out[Postprocessing.ADVANTAGES], [2.75, 3.5, 3.0])
    np.testing.assert_allclose(out[Postprocessing.VALUE_TARGETS], [0, 0, 0])


def test_discounted_returns_with_critic_subtract_baseline():
    out = compute_advantages(_traj(), 0.0, 0.5, use_gae=False, use_critic=True)
    np.testing.assert_allclose(out[Postprocessing.VALUE_TARGETS], [2.75, 3.5, 3.0])
    np.testing.assert_allclose(out[Postprocessing.ADVANTAGES], [2.75 - 0.5, 3.5 - 1.0, 3.0 - 1.5])


def test_last_r_bootstraps():
    a = compute_advantages(_traj(False), 0.0, 0.5, use_gae=False, use_critic=False)
    b = compute_advantages(_traj(False), 4.0, 0.5, use_gae=False, use_critic=False)
    # the bootstrap adds gamma^(T-t) * last_r
    np.testing.assert_allclose(b["advantages"] - a["advantages"], [4 * 0.125, 4 * 0.25, 4 * 0.5])
    g0 = compute_advantages(_traj(), 0.0, 0.9, 1.0)
    g1 = compute_advantages(_traj(), 1.0, 0.9, 1.0)
    np.testing.assert_allclose(
        g1["advantages"] - g0["advantages"], [0.9**3, 0.9**2, 0.9], rtol=1e-5
    )


def test_gae_lambda_one_equals_returns_minus_values():
    gae = compute_advantages(_traj(), 1.5, 0.9, 1.0, use_gae=True)
    mc = compute_advantages(_traj(), 1.5, 0.9, use_gae=False, use_critic=True)
    np.testing.assert_allclose(gae["advantages"], mc["advantages"], rtol=1e-5)
