"""Samples of the uncertain inputs, and scenarios with a sample applied.

Latin hypercube or scrambled Sobol points in the unit cube (scipy.stats.qmc), seeded from one
SeedSequence; rank correlations through a Gaussian copula; each column turned into its
distribution by the inverse CDF. The same (scenario, n, seed, method) always gives the same
table, which is what lets a killed sweep resume exactly.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from pydantic import ValidationError

from fabnet.core.errors import Problem, ScenarioError
from fabnet.scenario.checks import draw_problems, field_checks
from fabnet.scenario.paths import change_at, parse_path
from fabnet.scenario.problems import first_problem
from fabnet.scenario.schema import MAX_QUARTERS, Scenario, Uncertain

METHODS = ("lhs", "sobol")

T = TypeVar("T")


def unit_points(k: int, n: int, seed: int, method: str = "lhs") -> np.ndarray:
    """n points in (0, 1)^k."""
    from scipy.stats import qmc  # here, not at the top: scipy.stats costs `fabnet run` 0.8 s to import

    rng = np.random.default_rng(np.random.SeedSequence(seed))
    if method == "lhs":
        points = qmc.LatinHypercube(d=k, rng=rng).random(n)
    elif method == "sobol":
        points = qmc.Sobol(d=k, scramble=True, rng=rng).random(n)
    else:
        raise ValueError(f"unknown sampling method {method!r}; use one of {', '.join(METHODS)}")
    return np.clip(points, 1e-12, 1 - 1e-12)


def correlate(points: np.ndarray, correlation: np.ndarray | None) -> np.ndarray:
    """Impose rank correlations on uniform points (Gaussian copula). The matrix is the normal
    one; for moderate values Spearman's ρ ≈ it (exactly 6/π·asin(ρ/2))."""
    if correlation is None:
        return points
    from scipy import stats

    values, vectors = np.linalg.eigh(np.asarray(correlation, float))
    root = vectors * np.sqrt(np.clip(values, 0.0, None))  # works for singular PSD matrices too
    return stats.norm.cdf(stats.norm.ppf(points) @ root.T)


def inverse_cdf(entry: Uncertain, u: np.ndarray) -> np.ndarray:
    from scipy import stats

    if entry.dist == "normal":
        return _given(entry, "mean", entry.mean) + _given(entry, "sd", entry.sd) * stats.norm.ppf(u)
    if entry.dist == "lognormal":
        return (entry.median or 1.0) * np.exp(_given(entry, "sigma", entry.sigma) * stats.norm.ppf(u))
    if entry.dist in ("uniform", "triangular"):
        low, high = _given(entry, "low", entry.low), _given(entry, "high", entry.high)
        if entry.dist == "uniform":
            return low + (high - low) * u
        width = high - low
        shape = (_given(entry, "mode", entry.mode) - low) / width if width > 0 else 0.5
        return stats.triang(c=shape, loc=low, scale=width).ppf(u) if width > 0 else np.full_like(u, low)
    if entry.dist == "hazard":
        return hazard_quarter(_given(entry, "per_year", entry.per_year), u)
    values = _given(entry, "values", entry.values)
    weights = np.array(entry.weights or [1.0] * len(values), float)
    edges = np.cumsum(weights / weights.sum())
    return np.array(values)[np.minimum(np.searchsorted(edges, u, side="right"), len(edges) - 1)]


def hazard_quarter(per_year: float, u: np.ndarray) -> np.ndarray:
    """The quarter (0 = the horizon's first) an event with annual probability `per_year` happens,
    by the inverse CDF at `u`: each quarter it happens with q = 1 − (1 − per_year)^(1/4) if it
    has not yet, so P(quarter ≤ n) = 1 − (1 − q)^(n + 1) and quarter = ⌊ln(1 − u) / ln(1 − q)⌋;
    capped at MAX_QUARTERS (never, in any horizon)."""
    quarters = np.floor(4.0 * np.log1p(-u) / np.log1p(-per_year))
    return np.minimum(quarters, float(MAX_QUARTERS))


def _given(entry: Uncertain, name: str, value: T | None) -> T:
    """A parameter the entry's distribution needs (scenario.checks requires it of a loaded
    scenario; one built in code may lack it)."""
    if value is None:
        raise ValueError(f"uncertainty {entry.path!r}: dist {entry.dist} needs {name}")
    return value


def draw(scenario: Scenario, n: int, seed: int | None = None, method: str = "lhs") -> np.ndarray:
    """An (n × k) table of input values, one column per uncertainty entry."""
    entries = scenario.uncertainty
    if not entries:
        raise ValueError("the scenario has no uncertainty section to sample")
    points = unit_points(len(entries), n, scenario.seed if seed is None else seed, method)
    matrix = None if scenario.correlation is None else np.array(scenario.correlation)
    points = correlate(points, matrix)
    table = np.column_stack([inverse_cdf(e, points[:, j]) for j, e in enumerate(entries)])
    _reject_invalid_draws(scenario, table)
    return table


def _reject_invalid_draws(scenario: Scenario, table: np.ndarray) -> None:
    """A normal or lognormal has no bounds: the draws actually made must leave the scenario valid
    (the bounded distributions were checked when the scenario was loaded)."""
    for j in range(table.shape[1]):
        column = table[:, j]
        problems = draw_problems(scenario, j, [float(column.min()), float(column.max())])
        if problems:
            raise ScenarioError(problems[0])


def apply_sample(scenario: Scenario, row: np.ndarray) -> Scenario:
    """The scenario with one sample's values applied (multiply, add or replace) to every number
    at each entry's path; integer fields stay integers."""
    data = scenario.model_dump(by_alias=True, mode="json")
    for entry, value in zip(scenario.uncertainty, row, strict=True):
        change_at(data, parse_path(entry.path), entry.apply, float(value))
    try:
        sample = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [first_problem(exc)[0]]
    else:
        problems = field_checks(sample)
    if problems:  # each draw alone was checked; this is what several draws do together
        problem = problems[0]
        raise ScenarioError(
            Problem(
                problem.loc,
                f"{problem.found} in the sample {_show_row(row)}",
                f"{problem.expected}; narrow the distributions that move it",
            )
        )
    return sample


def _show_row(row: np.ndarray) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in row) + "]"
