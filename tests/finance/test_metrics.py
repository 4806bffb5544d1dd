"""NPV, IRR, payback against numpy-financial and by hand."""

from __future__ import annotations

import math

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fabnet.finance import annualise, irr, npv, payback_period, peak_funding_need

# Cash flows in cents, as money is: no denormal floats that overflow a polynomial solver.
flows = st.lists(st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 2)), min_size=2, max_size=24)


@given(st.floats(-0.5, 1.0), flows)
def test_npv_equals_numpy_financial(rate, values):
    assert npv(rate, values) == pytest.approx(npf.npv(rate, values), rel=1e-9, abs=1e-6)


@given(flows)
def test_irr_equals_numpy_financial(values):
    expected = npf.irr(values)
    got = irr(values)
    if math.isnan(expected):
        assert got is None
    else:
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


@given(st.floats(1, 1e6), st.lists(st.floats(1, 1e6), min_size=1, max_size=10))
def test_irr_makes_npv_zero(outlay, returns):
    values = [-outlay, *returns]
    rate = irr(values)
    assume(rate is not None and rate > -0.99)
    assert npv(rate, values) == pytest.approx(0.0, abs=1e-6 * sum(abs(v) for v in values))


@pytest.mark.parametrize("values", [[1, 2, 3], [-1, -2, 0], [0, 0, 0]])
def test_no_sign_change_has_no_irr(values):
    assert irr(values) is None


def test_numpy_financial_docstring_examples():
    # The worked examples in numpy-financial's irr documentation.
    assert round(irr([-100, 39, 59, 55, 20]), 5) == 0.28095
    assert round(irr([-100, 0, 0, 74]), 5) == -0.0955
    assert round(irr([-100, 100, 0, -7]), 5) == -0.0833
    assert round(irr([-5, 10.5, 1, -8, 1]), 5) == 0.0886


def test_annualise_quarterly_rate():
    assert annualise((1.08) ** 0.25 - 1) == pytest.approx(0.08)
    assert annualise(None) is None


def test_payback_and_peak_funding():
    values = np.array([-100.0, -50, 60, 60, 40, 10])
    assert payback_period(values) == 4  # cumulative: -100 -150 -90 -30 10 20
    assert peak_funding_need(values) == 150
    assert payback_period([-10, 5]) is None
    assert payback_period([5, 5]) == 0
