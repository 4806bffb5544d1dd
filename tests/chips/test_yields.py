"""Yield models against ai-fab-facts.md §3.4 (Leachman IEOR 130, Flynn) and their properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabnet.chips import (
    YIELD_MODELS,
    bose_einstein,
    d0_at_age,
    d0_from_yield,
    die_yield,
    harvested_yield,
    murphy,
    negative_binomial,
    poisson,
    seeds,
)

# Example D — UC Berkeley IEOR 130 HW 4 solutions (Leachman, 2009): A cm², D /cm², yields.
EXAMPLE_D = [
    (0.1, 0.5, 0.9512, 0.9514, 0.9524),
    (0.2, 0.5, 0.9048, 0.9056, 0.9091),
    (0.5, 0.5, 0.7788, 0.7829, 0.8000),
    (0.5, 1.0, 0.6065, 0.6193, 0.6667),
    (1.0, 0.5, 0.6065, 0.6193, 0.6667),
    (1.0, 0.75, 0.4724, 0.4949, 0.5714),
    (1.0, 1.0, 0.3679, 0.3996, 0.5000),
    (1.0, 1.5, 0.2231, 0.2682, 0.4000),
    (2.0, 1.5, 0.0498, 0.1003, 0.2500),
]
# The same problem set, inverted: A cm², observed yield, D by Poisson, D by Murphy.
EXAMPLE_D_INVERSE = [
    (0.25, 0.92, 0.3335, 0.3360),
    (0.5, 0.85, 0.3250, 0.3296),
    (0.5, 0.92, 0.1668, 0.1680),
    (1.0, 0.65, 0.4308, 0.4474),
    (1.0, 0.85, 0.1625, 0.1648),
]


@pytest.mark.parametrize(("area", "d0", "y_poisson", "y_murphy", "y_seeds"), EXAMPLE_D)
def test_example_d_yields(area, d0, y_poisson, y_murphy, y_seeds):
    mm2 = area * 100
    assert round(float(die_yield(mm2, d0, "poisson")), 4) == y_poisson
    assert round(float(die_yield(mm2, d0, "murphy")), 4) == y_murphy
    assert round(float(die_yield(mm2, d0, "seeds")), 4) == y_seeds


@pytest.mark.parametrize(("area", "observed", "d_poisson", "d_murphy"), EXAMPLE_D_INVERSE)
def test_example_d_inverse(area, observed, d_poisson, d_murphy):
    # ai-fab-facts.md: "use a tolerance of 1e-3" (the source rounds two Murphy cases up).
    assert float(d0_from_yield(area * 100, observed, "poisson")) == pytest.approx(d_poisson, abs=1e-3)
    assert float(d0_from_yield(area * 100, observed, "murphy")) == pytest.approx(d_murphy, abs=1e-3)


@pytest.mark.parametrize(("area_cm2", "expected"), [(2.3, 0.10), (1.0, 0.37)])
def test_example_b_poisson_at_one_defect_per_cm2(area_cm2, expected):
    assert round(float(die_yield(area_cm2 * 100, 1.0, "poisson")), 2) == expected


@pytest.mark.parametrize(("d0", "expected"), [(0.10, (0.44, 0.47, 0.51)), (0.07, (0.57, 0.58, 0.61))])
def test_h100_die_illustration(d0, expected):
    # ai-fab-facts.md §3.4: 814 mm² die, Poisson / Murphy / NB (α = 2).
    got = [die_yield(814, d0, m) for m in ("poisson", "murphy", "negative_binomial")]
    assert [round(float(y), 2) for y in got] == list(expected)


positive_x = st.floats(1e-4, 20)
models = st.sampled_from(YIELD_MODELS)


def model_kwargs(model):
    return (
        {"alpha": 2.0} if model == "negative_binomial" else ({"critical_layers": 5} if model == "bose_einstein" else {})
    )


@given(models, st.floats(1, 900), st.floats(0.01, 2), st.floats(1.01, 3))
def test_yield_falls_with_defect_density_and_area(model, area, d0, factor):
    kw = model_kwargs(model)
    base = die_yield(area, d0, model, **kw)
    assert die_yield(area, d0 * factor, model, **kw) < base
    assert die_yield(area * factor, d0, model, **kw) < base
    assert 0 < base < 1


@given(st.floats(1e-3, 5))
def test_negative_binomial_tends_to_poisson(x):
    assert negative_binomial(x, 1e7) == pytest.approx(poisson(x), rel=1e-5)
    gaps = [abs(negative_binomial(x, a) - poisson(x)) for a in (0.5, 2, 8, 64)]
    assert gaps == sorted(gaps, reverse=True)


@given(positive_x)
def test_seeds_is_negative_binomial_with_alpha_one(x):
    assert seeds(x) == pytest.approx(negative_binomial(x, 1.0))


@given(st.floats(1, 900), st.floats(0.01, 2), st.integers(1, 30))
def test_bose_einstein_spreads_d0_over_layers(area, d0, layers):
    x = area / 100 * d0
    assert die_yield(area, d0, "bose_einstein", critical_layers=layers) == pytest.approx(
        bose_einstein(x / layers, layers)
    )
    assert die_yield(area, d0, "bose_einstein", critical_layers=layers) == pytest.approx(
        die_yield(area, d0, "negative_binomial", alpha=layers)
    )


@given(models, st.floats(10, 900), st.floats(0.01, 2))
def test_inversion_round_trips(model, area, d0):
    kw = model_kwargs(model)
    y = die_yield(area, d0, model, **kw)
    assert d0_from_yield(area, y, model, **kw) == pytest.approx(d0, rel=1e-6)


def test_murphy_limit_at_zero_defects():
    assert murphy(0.0) == 1.0
    assert murphy(1e-12) == pytest.approx(1.0)


def test_observed_yield_must_be_a_share():
    with pytest.raises(ValueError):
        d0_from_yield(100, 1.5, "poisson")


def test_learning_starts_at_ramp_and_tends_to_mature():
    ages = np.arange(0, 40)
    d0 = d0_at_age(0.3, 0.08, 0.25, ages)
    assert d0[0] == pytest.approx(0.3)
    assert d0[1] == pytest.approx(0.08 + 0.22 * 0.75)
    assert np.all(np.diff(d0) < 0)
    assert d0[-1] == pytest.approx(0.08, abs=1e-4)


def test_harvesting_nothing_is_the_whole_die_yield():
    # With Poisson defects, n units of area A/n all perfect is exactly a perfect die of area A.
    assert harvested_yield(814, 0.1, 144, 0, model="poisson") == pytest.approx(die_yield(814, 0.1, "poisson"))


def test_harvesting_two_units_by_hand():
    # Two units of 50 mm² each, one may fail: y² + 2·y·(1 − y), y = exp(−0.5 · 0.2).
    y = math.exp(-0.5 * 0.2)
    assert harvested_yield(100, 0.2, 2, 1, model="poisson") == pytest.approx(y * y + 2 * y * (1 - y))


def test_harvesting_with_a_perfect_core():
    # Share 0.6 in 3 units, one may fail; the other 40 % of the die must be perfect.
    core = math.exp(-0.4 * 8.14 * 0.1)
    y = math.exp(-0.2 * 8.14 * 0.1)
    expected = core * (y**3 + 3 * y**2 * (1 - y))
    assert harvested_yield(814, 0.1, 3, 1, 0.6, model="poisson") == pytest.approx(expected)


@given(st.floats(50, 850), st.floats(0.01, 1), st.integers(1, 200), st.floats(0.1, 1))
def test_harvesting_never_lowers_yield(area, d0, units, share):
    plain = harvested_yield(area, d0, units, 0, share, model="poisson")
    assert harvested_yield(area, d0, units, max(units // 10, 1), share, model="poisson") >= plain


def test_unknown_model():
    with pytest.raises(ValueError, match="unknown yield model"):
        die_yield(100, 0.1, "lucky")
