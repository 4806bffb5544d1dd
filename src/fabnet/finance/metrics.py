"""Investment metrics on periodic cash flows (period 0 undiscounted)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def npv(rate_per_period: float, flows: Sequence[float] | np.ndarray) -> float:
    """Σ flow_t / (1 + rate)^t."""
    flows = np.asarray(flows, dtype=float)
    return float((flows / (1.0 + rate_per_period) ** np.arange(len(flows))).sum())


def irr(flows: Sequence[float] | np.ndarray) -> float | None:
    """The periodic rate r with NPV(r) = 0, or None when none exists (flows that never change
    sign have no IRR). NPV is a polynomial in x = 1/(1 + r); of its real positive roots the one
    giving the rate closest to zero is returned, the usual convention when there are several."""
    flows = np.asarray(flows, dtype=float)
    if not (flows > 0).any() or not (flows < 0).any():
        return None
    roots = np.roots(flows[::-1])  # highest power first: flow_T x^T + … + flow_0
    real = roots[(roots.imag == 0) & (roots.real > 0)].real
    if len(real) == 0:
        return None
    rates = 1.0 / real - 1.0
    return float(rates[np.argmin(np.abs(rates))])


def annualise(rate_per_quarter: float | None) -> float | None:
    return None if rate_per_quarter is None else (1.0 + rate_per_quarter) ** 4 - 1.0


def quarterly_rate(annual_rate: float) -> float:
    return (1.0 + annual_rate) ** 0.25 - 1.0


def payback_period(flows: Sequence[float] | np.ndarray) -> int | None:
    """First period from which the cumulative cash flow stays at or above zero, once it has
    been negative; None if it never gets back."""
    cumulative = np.cumsum(np.asarray(flows, dtype=float))
    if not (cumulative < 0).any():
        return 0
    last_negative = int(np.nonzero(cumulative < 0)[0][-1])
    return last_negative + 1 if last_negative + 1 < len(cumulative) else None


def peak_funding_need(flows: Sequence[float] | np.ndarray) -> float:
    """Deepest point of the cumulative cash flow, as a positive amount (0 if never below)."""
    return float(max(0.0, -np.cumsum(np.asarray(flows, dtype=float)).min(initial=0.0)))
