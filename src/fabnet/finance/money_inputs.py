"""Which inputs change only money around a plan (prices, costs, contracts, funding, finance) and
which change what the plan is (sites, their timing and size, the horizon, demand, yields): the
one rule for `fabnet.refinance` and for a sensitivity with the plan held."""

from __future__ import annotations

from fabnet.scenario.paths import PathError, parse_path

#: Sections that are money whole, and field names (or their endings) that are money anywhere.
MONEY_SECTIONS = ("finance", "funding", "offtake")
MONEY_FIELDS = ("_usd", "price_premium", "take_or_pay", "hurdle_rate", "revenue_share")


def changes_only_money(path: str) -> bool:
    """Whether the input at `path` changes only money, so a plan can be held while it moves.
    Text that is not a path at all counts as money: loading it then says what is wrong, located,
    as --set does."""
    try:
        parts = [p for p in parse_path(path) if isinstance(p, str)]
    except PathError:
        return True
    return bool(parts[:1] and parts[0] in MONEY_SECTIONS) or any(
        any(p == f or p.endswith(f) for f in MONEY_FIELDS) for p in parts
    )
