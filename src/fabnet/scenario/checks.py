"""Semantic checks: what the schema alone cannot see. Each `check_*` is a pure function of a
validated scenario that returns problems (never raises), with the path of the field to fix;
`check_scenario` runs them all. Paths use the file's own key names (`yield`, not `yield_`)."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from pydantic import ValidationError

from fabnet.core.errors import Loc, Problem, format_loc, show_list
from fabnet.core.format import usd
from fabnet.core.periods import Quarter
from fabnet.scenario.dated import check_grant_dates, warning_text
from fabnet.scenario.paths import PathError, change_at, get_at, parse_path, resolve
from fabnet.scenario.problems import first_problem
from fabnet.scenario.schema import MAX_QUARTERS, Scenario
from fabnet.scenario.site_checks import check_sites
from fabnet.scenario.spans import check_demand_years, check_plan_check_mix, check_simulation_span

# Largest field one exposure can print: 26 mm x 33 mm = 858 mm² (ai-fab-facts.md §1.1).
RETICLE_MM = (26.0, 33.0)
# Amounts that should add up may differ by rounding in the file, not by more.
SUM_TOLERANCE_USD = 1.0

Check = Callable[[Scenario], list[Problem]]


def check_scenario(scenario: Scenario) -> list[Problem]:
    return [problem for check in CHECKS for problem in check(scenario)]


def scenario_warnings(scenario: Scenario) -> list[str]:
    """What WARNINGS find, one line each naming the scenario's file, the field and the fix."""
    return [warning_text(problem, scenario.origin.file) for check in WARNINGS for problem in check(scenario)]


def check_unique_ids(s: Scenario) -> list[Problem]:
    problems = []
    sections: dict[str, Iterable[Any]] = {
        "nodes": s.nodes,
        "products": s.products,
        "packaging": s.packaging,
        "hbm": s.hbm,
        "sites": s.sites,
        "operators": s.operators,
        "funding.investors": s.funding.investors,
        "finance.tax_regimes": s.finance.tax_regimes,
    }
    for section, items in sections.items():
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                loc: tuple[str | int, ...] = (*section.split("."), i, "id")
                problems.append(Problem(loc, f"id {item.id!r} a second time", "ids unique in their section"))
            seen.add(item.id)
    offers: set[str] = set()
    for i, offer_id in enumerate(s.offer_ids()):
        if offer_id in offers:
            problems.append(
                Problem(
                    ("foundry_offers", i, "id"),
                    f"id {offer_id!r} a second time",
                    "ids unique in their section (give the offer an id)",
                )
            )
        offers.add(offer_id)
    return problems


def check_references(s: Scenario) -> list[Problem]:
    nodes = [n.id for n in s.nodes]
    lines = [p.id for p in s.packaging]
    regimes = [t.id for t in s.finance.tax_regimes]
    problems = []
    memories = [h.id for h in s.hbm]
    operators = [o.id for o in s.operators]
    for i, product in enumerate(s.products):
        if not product.made:
            continue
        if product.node is not None:
            problems += _ref(("products", i, "node"), product.node, nodes, "nodes")
        if product.packaging is not None:
            problems += _ref(("products", i, "packaging"), product.packaging, lines, "packaging")
        if product.hbm is not None:
            problems += _ref(("products", i, "hbm"), product.hbm, memories, "hbm")
    for i, site in enumerate(s.sites):
        problems += _ref(("sites", i, "node"), site.node, nodes, "nodes")
        problems += _ref(("sites", i, "tax_regime"), site.tax_regime, regimes, "finance.tax_regimes")
        if site.operator is not None:
            problems += _ref(("sites", i, "operator"), site.operator, operators, "operators")
    for i, offer in enumerate(s.foundry_offers):
        problems += _ref(("foundry_offers", i, "node"), offer.node, nodes, "nodes")
    seen: set[str] = set()
    for i, market in enumerate(s.wafer_markets):
        problems += _ref(("wafer_markets", i, "node"), market.node, nodes, "nodes")
        if market.node in seen:
            problems.append(Problem(("wafer_markets", i, "node"), market.node, "one entry per node"))
        seen.add(market.node)
    return problems


def _ref(loc: Loc, value: str, known: list[str], section: str) -> list[Problem]:
    if value in known:
        return []
    return [
        Problem(
            loc,
            f"{value!r}, which is not an id in {section}",
            f"one of: {', '.join(known)}" if known else f"an entry in {section} first",
        )
    ]


def check_quarters_in_horizon(s: Scenario) -> list[Problem]:
    h = s.horizon
    span = f"a quarter from {h.start} to {h.end} (the horizon)"
    problems = []

    def need(loc: Loc, quarter: Quarter | None) -> None:
        if quarter is not None and not h.contains(quarter):
            problems.append(Problem(loc, str(quarter), span))

    for i, site in enumerate(s.sites):
        need(("sites", i, "earliest_start"), site.earliest_start)
    for i, offer in enumerate(s.foundry_offers):
        need(("foundry_offers", i, "available_from"), offer.available_from)
    for i, investor in enumerate(s.funding.investors):
        need(("funding", "investors", i, "available_from"), investor.available_from)
        for quarter in investor.tranches or {}:
            need(("funding", "investors", i, "tranches", str(quarter)), quarter)
    for i, product in enumerate(s.products):
        for quarter in product.demand.per_quarter or {}:
            need(("products", i, "demand", "per_quarter", str(quarter)), quarter)
    if s.offtake.end is not None:
        need(("offtake", "end"), s.offtake.end)
    paths: list[tuple[Loc, Any]] = [
        *[
            (("packaging", i, "capacity_wafers_per_month"), line.capacity_wafers_per_month)
            for i, line in enumerate(s.packaging)
        ],
        *[
            (("foundry_offers", i, "max_wafers_per_month"), o.max_wafers_per_month)
            for i, o in enumerate(s.foundry_offers)
        ],
        *[(("hbm", i, "stacks_per_quarter"), h.stacks_per_quarter) for i, h in enumerate(s.hbm)],
        *[(("products", i, "supply_per_quarter"), p.supply_per_quarter) for i, p in enumerate(s.products)],
    ]
    for loc, path in paths:
        for quarter in path if isinstance(path, dict) else ():
            if quarter > h.end:
                problems.append(
                    Problem((*loc, str(quarter)), str(quarter), f"a quarter up to {h.end} (end of the horizon)")
                )
    return problems


def check_demand(s: Scenario) -> list[Problem]:
    problems = []
    for i, product in enumerate(s.products):
        demand, loc = product.demand, ("products", i, "demand")
        given = [name for name in ("per_year", "per_quarter") if getattr(demand, name) is not None]
        if len(given) != 1:
            found = "both per_year and per_quarter" if given else "no demand figures"
            problems.append(
                Problem(
                    loc, found, "exactly one of per_year or per_quarter, e.g. per_year: {2025: 300000, 2027: 900000}"
                )
            )
    return problems


def check_funding(s: Scenario) -> list[Problem]:
    problems = []
    investors = s.funding.investors
    total = sum(inv.amount_usd for inv in investors)
    declared = s.funding.total_usd
    if declared is not None and abs(total - declared) > SUM_TOLERANCE_USD:
        parts = " + ".join(f"{inv.id} {usd(inv.amount_usd)}" for inv in investors)
        problems.append(
            Problem(
                ("funding", "total_usd"),
                f"{usd(declared)} declared",
                f"the investors' amounts to add up to it: {parts} = {usd(total)}",
            )
        )
    for i, inv in enumerate(investors):
        loc = ("funding", "investors", i)
        if (inv.available_from is None) == (inv.tranches is None):
            problems.append(
                Problem(
                    loc,
                    "both available_from and tranches" if inv.tranches else "neither available_from nor tranches",
                    "exactly one: available_from: 2024Q2, or tranches: {2024Q2: 2.0e9}",
                )
            )
        if inv.tranches is not None and abs(sum(inv.tranches.values()) - inv.amount_usd) > SUM_TOLERANCE_USD:
            problems.append(
                Problem(
                    (*loc, "tranches"),
                    f"tranches adding up to {usd(sum(inv.tranches.values()))}",
                    f"tranches adding up to amount_usd {usd(inv.amount_usd)}",
                )
            )
        if inv.kind == "debt":
            for name in ("interest_rate", "tenor_q"):
                if getattr(inv, name) is None:
                    problems.append(Problem((*loc, name), "nothing", f"{name} for a debt investor"))
            if inv.preferred_return:
                problems.append(
                    Problem(
                        (*loc, "preferred_return"),
                        str(inv.preferred_return),
                        "no preferred_return on debt (it applies to equity)",
                    )
                )
        else:
            for name in ("interest_rate", "tenor_q"):
                if getattr(inv, name) is not None:
                    problems.append(
                        Problem((*loc, name), str(getattr(inv, name)), f"no {name} on equity (it applies to debt)")
                    )
        if inv.hurdle_rate is not None and inv.hurdle_spread is not None:
            problems.append(Problem((*loc, "hurdle_spread"), "both hurdle_rate and hurdle_spread", "one of them"))
        if inv.hurdle_over == "debt_rate" and inv.hurdle_spread is not None and not s.funding.project_debt:
            problems.append(
                Problem((*loc, "hurdle_over"), "debt_rate without project_debt", "a project_debt to take the rate of")
            )
    for i, loan in enumerate(s.funding.project_debt):
        loc = ("funding", "project_debt", i)
        if loan.kind == "government" and loan.amount_usd is None:
            problems.append(Problem((*loc, "amount_usd"), "nothing", "the government loan's amount_usd"))
    cv = s.finance.continuing_value
    if cv.method == "gordon" and cv.growth >= s.finance.discount_rate:
        problems.append(
            Problem(
                ("finance", "continuing_value", "growth"),
                str(cv.growth),
                f"growth below the discount rate ({s.finance.discount_rate}) for a Gordon continuing value",
            )
        )
    return problems


def check_nodes(s: Scenario) -> list[Problem]:
    problems = []
    for i, node in enumerate(s.nodes):
        loc = ("nodes", i)
        d0 = node.defect_density
        if d0.mature_per_cm2 > d0.ramp_per_cm2:
            problems.append(
                Problem(
                    (*loc, "defect_density", "mature_per_cm2"),
                    str(d0.mature_per_cm2),
                    f"at most ramp_per_cm2 ({d0.ramp_per_cm2}): D0 falls as a fab learns",
                )
            )
        model = node.yield_model
        if model.alpha is not None and model.kind != "negative_binomial":
            problems.append(
                Problem((*loc, "yield_model", "alpha"), str(model.alpha), "alpha only with kind: negative_binomial")
            )
        if model.kind == "bose_einstein" and model.critical_layers is None:
            problems.append(
                Problem(
                    (*loc, "yield_model", "critical_layers"),
                    "nothing",
                    "critical_layers (a whole number) for kind: bose_einstein",
                )
            )
        if model.critical_layers is not None and model.kind != "bose_einstein":
            problems.append(
                Problem(
                    (*loc, "yield_model", "critical_layers"),
                    str(model.critical_layers),
                    "critical_layers only with kind: bose_einstein",
                )
            )
        usable = node.wafer_diameter_mm - 2 * node.edge_exclusion_mm
        if usable <= 0:
            problems.append(
                Problem(
                    (*loc, "edge_exclusion_mm"),
                    str(node.edge_exclusion_mm),
                    f"less than half the wafer diameter ({node.wafer_diameter_mm / 2} mm)",
                )
            )
    return problems


#: Fields only a product the buyer designs (kind: design) has.
DESIGN_FIELDS = ("node", "die_width_mm", "die_height_mm", "harvesting", "hbm", "packaging", "design")
REQUIRED_FOR_DESIGN = ("node", "die_width_mm", "die_height_mm", "packaging")


def check_products(s: Scenario) -> list[Problem]:
    problems = []
    nodes = {n.id: n for n in s.nodes}
    for i, product in enumerate(s.products):
        loc = ("products", i)
        if not product.made:
            problems += [
                Problem(
                    (*loc, name),
                    str(getattr(product, name)),
                    f"no {name} on a bought product (kind: bought is bought finished)",
                )
                for name in DESIGN_FIELDS
                if getattr(product, name) is not None
            ]
            continue
        missing = [name for name in REQUIRED_FOR_DESIGN if getattr(product, name) is None]
        problems += [
            Problem((*loc, name), "nothing", f"{name} for a product the buyer designs (or kind: bought)")
            for name in missing
        ]
        if product.supply_per_quarter is not None:
            problems.append(
                Problem(
                    (*loc, "supply_per_quarter"),
                    str(product.supply_per_quarter),
                    "supply_per_quarter only on kind: bought (a design is made, not bought)",
                )
            )
        if product.hbm_stacks and product.hbm is None:
            problems.append(
                Problem((*loc, "hbm"), "nothing", f"the id of an hbm entry for its {product.hbm_stacks} stacks")
            )
        design = product.design
        if design is not None and design.tape_out < design.start:
            problems.append(
                Problem(
                    (*loc, "design", "tape_out"),
                    str(design.tape_out),
                    f"a quarter from the design's start ({design.start}) on",
                )
            )
        if design is not None and design.tape_out > s.horizon.end:
            problems.append(
                Problem(
                    (*loc, "design", "tape_out"),
                    str(design.tape_out),
                    f"a quarter up to {s.horizon.end}: taped out later, the product "
                    "could never be made inside the horizon",
                )
            )
        width, height, node_id = product.die_width_mm, product.die_height_mm, product.node
        if missing or width is None or height is None or node_id is None:  # the last three: in missing
            continue
        w, h = sorted((width, height))
        if w > min(RETICLE_MM) or h > max(RETICLE_MM):
            problems.append(
                Problem(
                    (*loc, "die_width_mm"),
                    f"a die of {width} × {height} mm",
                    f"a die within the {RETICLE_MM[0]:g} × {RETICLE_MM[1]:g} mm reticle; "
                    "split larger designs into more compute_dies_per_package",
                )
            )
        node = nodes.get(node_id)
        if node is not None:
            usable = node.wafer_diameter_mm - 2 * node.edge_exclusion_mm
            if math.hypot(width, height) >= usable > 0:
                problems.append(
                    Problem(
                        (*loc, "die_width_mm"),
                        "a die larger than the usable wafer",
                        f"a die whose diagonal is below {usable} mm",
                    )
                )
        harvest = product.harvesting
        if harvest is not None and harvest.max_defective_units >= harvest.units:
            problems.append(
                Problem(
                    (*loc, "harvesting", "max_defective_units"),
                    str(harvest.max_defective_units),
                    f"fewer than units ({harvest.units})",
                )
            )
    return problems


def check_offtake(s: Scenario) -> list[Problem]:
    offtake = s.offtake
    if offtake.price != "fixed":
        return []
    prices = offtake.fixed_price_usd or {}
    needed = sorted({site.node for site in s.sites} - set(prices))
    if needed:
        return [
            Problem(
                ("offtake", "fixed_price_usd"),
                show_list(prices or "nothing"),
                f"a price for every node a site runs: {', '.join(needed)} missing",
            )
        ]
    return []


def check_uncertainty(s: Scenario) -> list[Problem]:
    problems = []
    data = s.model_dump(by_alias=True, mode="json")
    required = {
        "normal": ("mean", "sd"),
        "lognormal": ("sigma",),
        "uniform": ("low", "high"),
        "triangular": ("low", "mode", "high"),
        "discrete": ("values",),
        "hazard": ("per_year",),
    }
    targets: dict[Loc, int] = {}
    for i, entry in enumerate(s.uncertainty):
        loc = ("uncertainty", i)
        try:
            target_loc = resolve(data, parse_path(entry.path))
        except PathError as exc:
            problems.append(Problem((*loc, "path"), repr(entry.path), f"a path that exists: {exc}"))
            continue
        found = []
        target = get_at(data, target_loc)
        if not _is_number_or_numbers(target):
            found.append(
                Problem(
                    (*loc, "path"),
                    f"{entry.path!r}, which holds {show_list(target)}",
                    "a path to a number, a list of numbers or a mapping of numbers",
                )
            )
        other = next((j for t, j in targets.items() if t[: len(target_loc)] == target_loc[: len(t)]), None)
        if other is not None:  # two draws on one number could together leave its range
            found.append(
                Problem(
                    (*loc, "path"),
                    f"{entry.path!r}, which uncertainty[{other}] changes too",
                    "each input in one entry only (combine the two into one distribution)",
                )
            )
        targets[target_loc] = i
        for name in required[entry.dist]:
            if getattr(entry, name) is None:
                found.append(Problem((*loc, name), "nothing", f"{name} for dist: {entry.dist}"))
        if entry.dist == "hazard" and entry.apply != "replace":
            found.append(Problem((*loc, "apply"), entry.apply, "replace for dist: hazard (the draw is a quarter)"))
        bounds = [v for v in (entry.low, entry.mode, entry.high) if v is not None]
        if bounds != sorted(bounds):
            found.append(Problem((*loc, "low"), show_list(bounds), "low <= mode <= high"))
        if entry.weights is not None and (
            entry.values is None or len(entry.weights) != len(entry.values) or sum(entry.weights) <= 0
        ):
            found.append(Problem((*loc, "weights"), show_list(entry.weights), "one weight per value, not all zero"))
        if not found and _bounded_extremes(entry):
            found = draw_problems(s, i, _bounded_extremes(entry), data)
        problems += found
    return problems + _correlation_problems(s)


def _bounded_extremes(entry: Any) -> list[float]:
    """The smallest and largest draw of a bounded distribution (none for normal, lognormal)."""
    if entry.dist in ("uniform", "triangular"):
        return [entry.low, entry.high]
    if entry.dist == "discrete":
        return [min(entry.values), max(entry.values)]
    if entry.dist == "hazard":
        return [0.0, float(MAX_QUARTERS)]  # the first quarter, or never
    return []


def draw_problems(s: Scenario, index: int, draws: list[float], data: Any = None) -> list[Problem]:
    """What is wrong with the scenario when uncertainty entry `index` takes each of `draws`:
    a draw must leave the scenario valid (every field it changes inside its range, and the
    checks of this module passed), so that a sample can never carry an impossible input (a
    negative lead time, an infinite price, a site that starts after the horizon) into a plan."""
    entry = s.uncertainty[index]
    base = s.model_dump(by_alias=True, mode="json") if data is None else data
    blame = {"normal": "sd", "lognormal": "sigma", "discrete": "values"}.get(entry.dist)
    for value in draws:
        changed = copy.deepcopy(base)
        target = change_at(changed, parse_path(entry.path), entry.apply, value)
        try:
            problem = next(iter(field_checks(Scenario.model_validate(changed))), None)
        except ValidationError as exc:
            problem = first_problem(exc)[0]
        if problem is not None:
            name = blame or ("low" if value == draws[0] else "high")
            return [
                Problem(
                    ("uncertainty", index, name),
                    f"a draw of {value:.6g} ({entry.apply}), which makes "
                    f"{format_loc(target)} {show_list(get_at(changed, target))}",
                    f"draws that keep {problem.path} valid: {problem.expected}",
                )
            ]
    return []


def field_checks(s: Scenario) -> list[Problem]:
    """Every check but the uncertainty section's own (which calls this for each draw)."""
    return [problem for check in CHECKS if check is not check_uncertainty for problem in check(s)]


def _correlation_problems(s: Scenario) -> list[Problem]:
    matrix = s.correlation
    if matrix is None:
        return []
    k = len(s.uncertainty)
    c = np.array(matrix, dtype=float) if all(len(row) == k for row in matrix) else None
    if c is None or c.shape != (k, k):
        return [
            Problem(
                ("correlation",),
                f"a matrix of {len(matrix)} rows",
                f"{k} rows of {k} numbers, one per uncertainty entry",
            )
        ]
    if not np.allclose(c, c.T) or not np.allclose(np.diag(c), 1.0) or np.abs(c).max() > 1:
        return [
            Problem(
                ("correlation",),
                show_list(matrix),
                "a symmetric matrix with ones on the diagonal and entries in [-1, 1]",
            )
        ]
    smallest = float(np.linalg.eigvalsh(c).min())
    if smallest < -1e-9:
        return [
            Problem(
                ("correlation",),
                f"a matrix with a negative eigenvalue ({smallest:.3g})",
                "a positive semi-definite matrix: these correlations cannot all hold at once",
            )
        ]
    return []


def _is_number_or_numbers(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, list):
        return bool(value) and all(_is_number_or_numbers(v) for v in value)
    if isinstance(value, dict):
        return bool(value) and all(_is_number_or_numbers(v) for v in value.values())
    return False


CHECKS: tuple[Check, ...] = (
    check_unique_ids,
    check_references,
    check_quarters_in_horizon,
    check_demand,
    check_funding,
    check_nodes,
    check_products,
    check_sites,
    check_offtake,
    check_uncertainty,
    check_simulation_span,
    check_plan_check_mix,
)

#: Checks whose problems are warnings: a scenario that may run but says something it could not
#: have known (scenario/dated.py). The CLI prints them and a run keeps them with its messages.
WARNINGS: tuple[Check, ...] = (check_grant_dates, check_demand_years)
