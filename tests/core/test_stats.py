"""Sample statistics against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from fabnet.core.stats import expected_shortfall


def test_expected_shortfall_of_normal_samples_is_the_closed_form():
    """Lower-tail CVaR of N(μ, σ) at 10 %: μ − σ·φ(Φ⁻¹(0.1))/0.1 (e.g. McNeil, Frey and
    Embrechts, Quantitative Risk Management, eq. 2.25)."""
    mu, sigma = 2e9, 1e9
    values = np.random.default_rng(7).normal(mu, sigma, 400_000)
    closed = mu - sigma * stats.norm.pdf(stats.norm.ppf(0.1)) / 0.1
    assert expected_shortfall(values) == pytest.approx(closed, abs=0.01 * sigma)  # sampling error ≈ 0.002 σ


def test_expected_shortfall_counts_the_edge_sample_by_its_share():
    # 15 samples, worst 10 % = 1.5 samples: all of the worst and half of the next
    values = np.array([-5.0, -3.0, *range(13)])
    assert expected_shortfall(values) == pytest.approx((-5 - 0.5 * 3) / 1.5)
    assert expected_shortfall(np.arange(10.0)) == 0.0
    assert math.isnan(expected_shortfall([]))
