"""Investment metrics on quarterly cash flows (quarter 0 undiscounted)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fabnet.core.periods import quarterly_rate

__all__ = [
    "annualise",
    "investor_irr",
    "irr",
    "npv",
    "payback_period",
    "peak_funding_need",
    "present_value",
    "quarterly_rate",
    "with_terminal",
    "without_dust",
]


def npv(rate_per_period: float, flows: Sequence[float] | np.ndarray) -> float | np.ndarray:
    """Σ flow_t / (1 + rate)^t over the last axis (leading axes, e.g. samples, broadcast)."""
    flows = np.asarray(flows, dtype=float)
    value = (flows / (1.0 + rate_per_period) ** np.arange(flows.shape[-1])).sum(axis=-1)
    return float(value) if np.ndim(value) == 0 else value


def with_terminal(flows: np.ndarray, terminal: float | np.ndarray) -> np.ndarray:
    """Quarterly flows [..., T] followed by the terminal value at the end of the horizon (one
    more period, T): the convention of every NPV and IRR with a terminal value in fabnet."""
    flows = np.asarray(flows, dtype=float)
    end = np.broadcast_to(np.asarray(terminal, dtype=float), flows.shape[:-1])[..., None]
    return np.concatenate([flows, end], axis=-1)


def present_value(flows: np.ndarray, annual_rate: float, terminal: float | np.ndarray = 0.0) -> np.ndarray | float:
    """NPV at an annual rate (compounded quarterly) of quarterly flows [..., T] plus a terminal
    value at the end of the horizon: the one NPV of fabnet, for finance, risk and reports."""
    return npv(quarterly_rate(annual_rate), with_terminal(flows, terminal))


def irr(flows: Sequence[float] | np.ndarray) -> float | None:
    """The periodic rate r with NPV(r) = 0, or None when none exists (flows that never change
    sign have no IRR). NPV is a polynomial in x = 1/(1 + r); of its real positive roots the one
    giving the rate closest to zero is returned, the usual convention when there are several."""
    flows = np.trim_zeros(np.asarray(flows, dtype=float), "b")
    if not (flows > 0).any() or not (flows < 0).any():
        return None
    roots = np.roots(flows[::-1])  # highest power first: flow_T x^T + … + flow_0
    real = roots[(np.abs(roots.imag) < 1e-12) & (roots.real > 0)].real
    if len(real) == 0:
        return None
    rates = 1.0 / real - 1.0
    return float(rates[np.argmin(np.abs(rates))])


def without_dust(flows: np.ndarray) -> np.ndarray:
    """Amounts under a dollar are rounding, not flows: left in, a −1e-9 adds a sign change and a
    false IRR."""
    flows = np.asarray(flows, dtype=float)
    return np.where(np.abs(flows) < 1.0, 0.0, flows)


def investor_irr(paid_in: np.ndarray, paid_out: np.ndarray) -> float | None:
    """Quarterly IRR of an investor who pays `paid_in` at the start of each quarter and
    receives `paid_out` at its end (the start of the next): a call and a distribution in one
    quarter are a quarter apart, so neither erases the other."""
    flows = np.zeros(len(paid_in) + 1)
    flows[:-1] -= without_dust(paid_in)
    flows[1:] += without_dust(paid_out)
    return irr(flows)


def annualise(rate_per_quarter: float | None) -> float | None:
    return None if rate_per_quarter is None else (1.0 + rate_per_quarter) ** 4 - 1.0


def payback_period(flows: Sequence[float] | np.ndarray) -> int | None:
    """First period from which the cumulative cash flow stays at or above zero, once it has
    been negative; None if it never gets back."""
    cumulative = np.cumsum(np.asarray(flows, dtype=float))
    if not (cumulative < -1.0).any():
        return 0
    last_negative = int(np.nonzero(cumulative < -1.0)[0][-1])
    return last_negative + 1 if last_negative + 1 < len(cumulative) else None


def peak_funding_need(flows: Sequence[float] | np.ndarray) -> float:
    """Deepest point of the cumulative cash flow, as a positive amount (0 if never below)."""
    return float(max(0.0, -np.cumsum(np.asarray(flows, dtype=float)).min(initial=0.0)))
