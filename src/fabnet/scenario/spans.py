"""Fields that only make sense together: a span's start before its end. `check_simulation_span`
is an error (a warm-up as long as the run leaves nothing to measure); demand given for years
the horizon does not reach is a warning (checks.WARNINGS): it may still shape the years inside
by interpolation, but a year wholly outside is most often a typo or a horizon set too short.
`check_plan_check_mix`: each product's SMT2020 shares add up to one, for a product made."""

from __future__ import annotations

from fabnet.core.errors import Problem
from fabnet.scenario.schema import Scenario


def check_simulation_span(s: Scenario) -> list[Problem]:
    simulation = s.simulation
    if simulation is None or simulation.warmup_days < simulation.days:
        return []
    return [
        Problem(
            ("simulation", "warmup_days"),
            f"{simulation.warmup_days:g} days of warm-up in a run of {simulation.days:g} days",
            "a warm-up shorter than days, e.g. a fifth of it, so some days are measured",
        )
    ]


def check_demand_years(s: Scenario) -> list[Problem]:
    """Years of per_year demand outside the horizon's years."""
    first, last = s.horizon.start.year, s.horizon.end.year
    return [
        Problem(
            ("products", i, "demand", "per_year", str(year)),
            f"demand for {year}, outside the horizon's years {first}–{last}",
            "years the horizon reaches (a year outside only shapes the years inside by "
            "interpolation); extend horizon.quarters or drop the year",
        )
        for i, product in enumerate(s.products)
        for year in sorted(product.demand.per_year or {})
        if not first <= year <= last
    ]


#: Shares read from a file may miss one by rounding, not by more.
SHARE_TOLERANCE = 1e-6


def check_plan_check_mix(s: Scenario) -> list[Problem]:
    """plan_check.products: a made product's SMT2020 shares, summing to 1."""
    made = [product.id for product in s.made_products]
    problems = []
    for product, shares in s.plan_check.products.items():
        loc = ("plan_check", "products", product)
        if product not in made:
            problems.append(Problem(loc, repr(product), f"a product made in a fab, one of {', '.join(made)}"))
        elif abs(sum(shares.values()) - 1) > SHARE_TOLERANCE:
            total = sum(shares.values())
            problems.append(Problem(loc, f"shares summing to {total:g}", "shares of its wafer starts summing to 1"))
    return problems
