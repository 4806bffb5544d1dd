"""One input at a time: how the headline moves — the fab company's NPV and IRR, each investor's
IRR, the buyer's gain against the foundry route and, on request, the deal's ends — when one
input goes to its low or its high value and every other stays as it is; and the break-even of
one input: the value at which a headline figure reaches a target ("at what wafer price does g42
miss its hurdle?").

The plan is held by default: the decision's builds and operations, and the foundry route's,
stay as they were and only the money is followed again (finance.compute_financials, 0.2 s a
point on tigris), so only inputs that change money can be varied (finance.money_inputs, the
rule `fabnet.refinance` keeps). With `replan`, each point is planned again, both with the fabs
and without (two solves a point), and any input may vary.

The inputs: the scenario's uncertain inputs, each at the P10 and P90 of its distribution
(applied as the risk sweep applies a draw: multiply, add or replace), and any input given as
`path=low:high` (the values themselves).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fabnet.core import columns
from fabnet.finance import Financials, compute_financials
from fabnet.finance.deal import make_deal
from fabnet.finance.money_inputs import changes_only_money
from fabnet.pipeline import Decision, buyer_gain, make_decision, plan_tables, without_fabs
from fabnet.plan import SolveOptions
from fabnet.risk.sampling import inverse_cdf
from fabnet.scenario.loader import with_overrides
from fabnet.scenario.paths import change_at, get_at, parse_path, resolve
from fabnet.scenario.reference import path_words
from fabnet.scenario.schema import Scenario
from fabnet.scenario.yamltext import flow
from fabnet.store.figures import investor_irr

#: The quantiles an uncertain input swings between.
SWING = (0.1, 0.9)
#: The headline, as core.columns names its figures (each investor's IRR is irr_<investor>).
NPV, IRR, GAIN = "fabco_npv_usd", "fabco_irr", "network_adds_buyer_gain_usd"
DEAL_ENDS = ("deal_low_share_of_market", "deal_high_share_of_market")
#: A break-even is searched to this share of the range searched.
TOLERANCE = 1e-4


@dataclass(frozen=True)
class Swing:
    """One input's low and high, as the --set overrides that make them."""

    path: str
    words: str
    low: str  # "path=value"
    high: str
    shown: tuple[str, str]  # the two ends as drawn: "×0.85", "+2", "18000"


@dataclass(frozen=True)
class Model:
    """What is followed again at each point: the decision's plans held (only the money moves),
    or planned anew (`replan`), the deal's ends with `deal`."""

    decision: Decision
    replan: bool = False
    deal: bool = False
    options: SolveOptions = field(default_factory=SolveOptions)

    def headline(self, overrides: list[str]) -> dict[str, float | None]:
        """The headline figures with `overrides` applied to the decision's scenario."""
        scenario = with_overrides(self.decision.scenario, overrides) if overrides else self.decision.scenario
        if self.replan:
            again = make_decision(scenario, self.options, deal_shares=())
            money, route, tables = again.money, again.foundry_route, plan_tables(again.plan)
        else:
            tables = plan_tables(self.decision.plan)
            money = compute_financials(scenario, tables)
            route = compute_financials(without_fabs(scenario), plan_tables(self.decision.counterfactual))
        figures = headline_of(money, route)
        if self.deal:
            found = make_deal(scenario, tables, route, shares=())
            figures |= dict(zip(DEAL_ENDS, (found.low, found.high), strict=True))
        return figures

    def value(self, key: str, overrides: list[str]) -> float:
        """One headline figure at `overrides` (NaN where it does not exist, e.g. an IRR of flows
        that never change sign)."""
        figure = self.headline(overrides).get(key)
        return float("nan") if figure is None else float(figure)


def headline_of(money: Financials, route: Financials) -> dict[str, float | None]:
    """The fab company's NPV and IRR, each called investor's IRR, the buyer's gain."""
    metrics = money.fabco.metrics
    figures: dict[str, float | None] = {NPV: metrics.fabco_npv_usd, IRR: metrics.fabco_irr}
    for row in money.fabco.investors.itertuples():
        if row.called_usd > 0:
            figures[investor_irr(row.investor)] = row.irr
    figures[GAIN] = buyer_gain(money, route)
    return figures


def swings(scenario: Scenario, vary: list[str], replan: bool = False) -> tuple[list[Swing], list[str]]:
    """The inputs to swing (the uncertain ones, then those of `vary`, "path=low:high") and the
    paths left out: with the plan held, the uncertain inputs that change what the plan is."""
    found, left_out = [], []
    for entry in scenario.uncertainty:
        if not replan and not changes_only_money(entry.path):
            left_out.append(entry.path)
            continue
        low, high = (float(v) for v in inverse_cdf(entry, np.array(SWING)))
        found.append(
            Swing(
                entry.path,
                path_words(entry.path),
                changed(scenario, entry.path, entry.apply, low),
                changed(scenario, entry.path, entry.apply, high),
                (drawn(entry.apply, low), drawn(entry.apply, high)),
            )
        )
    for text in vary:
        path, at_low, at_high = parse_vary(text)
        found.append(Swing(path, path_words(path), f"{path}={at_low}", f"{path}={at_high}", (at_low, at_high)))
    return found, left_out


def parse_vary(text: str) -> tuple[str, str, str]:
    """'nodes.N3.wafer_price_usd=18000:27000' -> (path, '18000', '27000')."""
    path, sep, ends = text.partition("=")
    low, colon, high = ends.partition(":")
    if not sep or not colon or not path.strip() or not low.strip() or not high.strip():
        raise ValueError(f"--vary {text!r}: give path=low:high, e.g. nodes.N3.wafer_price_usd=18000:27000")
    return path.strip(), low.strip(), high.strip()


def drawn(how: str, value: float) -> str:
    """A draw as it changes its input: "×0.85" (multiply), "+2" (add), "18,000" (replace)."""
    number = f"{value:,.4g}"
    return {"multiply": f"×{number}", "add": f"{value:+,.4g}"}.get(how, number)


def changed(scenario: Scenario, path: str, how: str, value: float) -> str:
    """The override that changes the value at `path` as a draw of `value` does (multiply, add,
    replace), written as --set takes it; a whole number as an integer (a quarter drawn by a
    hazard replaces a field that takes whole quarters)."""
    data = scenario.model_dump(by_alias=True, mode="json")
    changed = get_at(data, change_at(data, parse_path(path), how, value))
    whole = isinstance(changed, float) and changed.is_integer()
    return f"{path}={flow(int(changed) if whole else changed)}"


def tornado(model: Model, inputs: list[Swing]) -> pd.DataFrame:
    """Per input, the headline at its low and its high beside the base: one row per input and
    end, the inputs ranked by how far they move the fab company's NPV (widest first)."""
    base = model.headline([])
    rows = [{"input": "base", "path": "", "end": "base", "setting": "", **base}]
    for swing in inputs:
        for end, override, shown in (("low", swing.low, swing.shown[0]), ("high", swing.high, swing.shown[1])):
            rows.append(
                {"input": swing.words, "path": swing.path, "end": end, "setting": shown} | model.headline([override])
            )
    frame = pd.DataFrame(rows)
    spread = frame.groupby("path")[NPV].agg(lambda v: v.max() - v.min())
    order = {path: -width for path, width in spread.items()} | {"": -math.inf}
    return frame.sort_values("path", key=lambda paths: paths.map(order), kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class BreakEven:
    """The value of `path` (replaced, or the factor its numbers are multiplied by: `how`) at
    which `key` reaches `target`, between `low` and `high` (None: it does not, the figure at
    each end says which side)."""

    path: str
    how: str
    key: str
    target: float
    low: float
    high: float
    at: float | None
    at_low: float
    at_high: float


def break_even(
    model: Model,
    path: str,
    key: str,
    target: float | Callable[[Financials], float],
    low: float,
    high: float,
    how: str = "replace",
) -> BreakEven:
    """Bisect the value of `path` between `low` and `high` until `key` is at `target`, to
    TOLERANCE of the range; the value replaces the input, or multiplies each of its numbers
    (`how`, as an uncertain input's draw); `target` a number or a function of the money (an
    investor's hurdle)."""
    goal = target if isinstance(target, int | float) else target(model.decision.money)
    scenario = model.decision.scenario

    def gap(value: float) -> float:
        return model.value(key, [changed(scenario, path, how, value)]) - goal

    at_low, at_high = gap(low), gap(high)
    found = None
    if not (math.isnan(at_low) or math.isnan(at_high)) and (at_low <= 0) != (at_high <= 0):
        lo, hi, rising = low, high, at_high > at_low
        while hi - lo > TOLERANCE * (high - low):
            mid = (lo + hi) / 2
            below = gap(mid) < 0
            lo, hi = (mid, hi) if below == rising else (lo, mid)
        found = (lo + hi) / 2
    return BreakEven(path, how, key, goal, low, high, found, at_low + goal, at_high + goal)


def hurdle_of(investor: str) -> Callable[[Financials], float]:
    """An investor's hurdle rate, read from the money (a target for break_even)."""

    def hurdle(money: Financials) -> float:
        rows = money.fabco.investors[money.fabco.investors["investor"] == investor]
        if rows.empty:
            raise ValueError(f"no investor {investor!r} in the scenario's funding")
        return float(rows["hurdle"].iloc[0])

    return hurdle


def binding_investor(money: Financials) -> str | None:
    """The called equity investor closest to (or furthest below) its hurdle: the one a break-even
    asks about by default (a lender's IRR is its loan's rate, whatever the price)."""
    investors = money.fabco.investors
    called = investors[(investors["called_usd"] > 0) & investors["irr"].notna()]
    if (called["kind"] == "equity").any():
        called = called[called["kind"] == "equity"]
    if called.empty:
        return None
    return str(called.loc[(called["irr"] - called["hurdle"]).idxmin(), "investor"])


def base_value(scenario: Scenario, path: str) -> float | None:
    """The number at `path` in the scenario, None for a mapping or list of numbers (which a
    break-even multiplies); anything else cannot be bisected."""
    data = scenario.model_dump(by_alias=True, mode="json")
    value = get_at(data, resolve(data, parse_path(path)))
    if isinstance(value, dict | list) and value:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"{path} is not a number (it is {value!r}): a break-even varies a number")
    return float(value)


#: What a break-even may solve for, as `--solve` names it: "<investor> irr", "fabco npv",
#: "fabco irr", "buyer gain".
NAMED = {("fabco", "npv"): NPV, ("fabco", "irr"): IRR, ("buyer", "gain"): GAIN}


def parse_solve(text: str, money: Financials) -> tuple[str, float | Callable[[Financials], float]]:
    """'g42 irr = hurdle' -> ('irr_g42', g42's hurdle); 'fabco npv = 0' -> ('fabco_npv_usd', 0.0);
    '' -> the binding investor's IRR at its hurdle."""
    if not text.strip():
        investor = binding_investor(money)
        if investor is None:
            raise ValueError("no investor's money is called: give --solve, e.g. 'fabco npv = 0'")
        return investor_irr(investor), hurdle_of(investor)
    left, sep, right = text.partition("=")
    words = left.lower().split()
    if not sep or len(words) != 2 or not right.strip():
        raise ValueError(f"--solve {text!r}: write e.g. 'g42 irr = hurdle', 'fabco npv = 0' or 'buyer gain = 0'")
    who, what = words
    investors = set(money.fabco.investors["investor"])
    if (who, what) in NAMED:
        key = NAMED[(who, what)]
    elif who in investors and what == "irr":
        key = investor_irr(who)
    else:
        raise ValueError(
            f"--solve {text!r}: {who} {what} is not a headline figure; solve for fabco npv, fabco irr, "
            f"buyer gain or an investor's irr ({', '.join(sorted(investors))})"
        )
    target = right.strip().lower()
    if target == "hurdle":
        if not key.startswith("irr_"):
            raise ValueError(f"--solve {text!r}: only an investor's IRR has a hurdle")
        return key, hurdle_of(key.removeprefix("irr_"))
    return key, _number(target, text)


def _number(target: str, text: str) -> float:
    """'0', '1.5e9', '12%' as a number (a per cent sign divides by 100)."""
    try:
        return float(target.removesuffix("%")) / (100.0 if target.endswith("%") else 1.0)
    except ValueError:
        raise ValueError(f"--solve {text!r}: the target {target!r} is neither a number nor 'hurdle'") from None


def search_range(scenario: Scenario, path: str, between: str | None) -> tuple[str, float, float]:
    """How a break-even moves the input at `path` and where it searches: a number is replaced,
    a mapping or list of numbers (a price per year) multiplied. The range is `between`
    ("low:high"), else 0 to 1 for a share (core.columns says which fields are), a quarter to
    four times the scenario's value (or factor 1) for another positive number, and one either
    side of a value of 0 or below."""
    base = base_value(scenario, path)
    how = "multiply" if base is None else "replace"
    if between:
        low, colon, high = between.partition(":")
        if not colon:
            raise ValueError(f"--between {between!r}: give low:high, e.g. 0.2:2.0")
        return how, float(low), float(high)
    base = 1.0 if base is None else base
    field = next((p for p in reversed(parse_path(path)) if isinstance(p, str)), path)
    if how == "replace" and columns.meaning(field).unit == "share":
        return how, 0.0, 1.0
    return (how, base / 4, base * 4) if base > 0 else (how, base - 1.0, base + 1.0)


def default_path(scenario: Scenario, table: pd.DataFrame) -> str | None:
    """The input a break-even moves when none is given: the one that moves the NPV most of those
    set to a number in the scenario that may take any value (not a field left unset, nor whole
    quarters)."""
    data = scenario.model_dump(by_alias=True, mode="json")
    for path in dict.fromkeys(table["path"]):
        if not path:
            continue
        segments = parse_path(path)
        value = get_at(data, resolve(data, segments))
        field = next((p for p in reversed(segments) if isinstance(p, str)), path)
        number = isinstance(value, int | float | dict | list) and not isinstance(value, bool)
        if number and columns.meaning(field).unit != "quarters":
            return str(path)
    return None
