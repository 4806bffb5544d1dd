"""Tiny planning scenarios built in code, so each test states exactly what it changes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fabnet.scenario.checks import check_scenario
from fabnet.scenario.schema import Scenario

# 75 layers × 1.2175 days = 91.3125 days = exactly one quarter of 365.25 / 4 days.
ONE_QUARTER_CYCLE = {"mask_layers": 75, "days_per_mask_layer": 1.2175}


def site(site_id: str, **changes: Any) -> dict[str, Any]:
    base = {
        "id": site_id,
        "region": "US",
        "node": "N",
        "module_wspm": 1000,
        "max_modules": 2,
        "capex_per_module_usd": {"building": 20e6, "tools": 60e6},
        "lead_time_q": 1,
        "ramp": [1.0],
        "opex_per_wafer_usd": 0,
        "tax_regime": "T",
        "earliest_start": "2025Q1",
    }
    base.update(changes)
    return base


def tiny(**changes: Any) -> dict[str, Any]:
    """One node, one 10 × 10 mm product, two sites, no foundry, cheap packaging, no discount.
    Keyword arguments replace top-level sections (deep copies, so tests can mutate)."""
    data: dict[str, Any] = {
        "name": "tiny",
        "horizon": {"start": "2025Q1", "quarters": 6},
        "nodes": [
            {
                "id": "N",
                "wafer_price_usd": 10000,
                **ONE_QUARTER_CYCLE,
                "defect_density": {"ramp_per_cm2": 0.1, "mature_per_cm2": 0.1, "learning_rate_per_q": 0.5},
                "yield_model": {"kind": "poisson"},
                # the hand-worked and brute-force cases state a fixed cycle time; test_loadcurve.py
                # turns the load curve on
                "load_curve": None,
            }
        ],
        "products": [
            {
                "id": "chip",
                "node": "N",
                "compute_dies_per_package": 1,
                "die_width_mm": 10,
                "die_height_mm": 10,
                "packaging": "pkg",
                "market_price_usd": 1000,
                "unmet_penalty_usd": 500,
                "demand": {"per_quarter": {"2025Q1": 0, "2025Q3": 1_000_000, "2025Q4": 2_000_000}},
            }
        ],
        "packaging": [
            {"id": "pkg", "packages_per_wafer": 100, "yield": 1.0, "capacity_wafers_per_month": {"2025Q1": 1e6}}
        ],
        "sites": [
            site("alpha"),
            site("beta", lead_time_q=2, ramp=[0.5, 1.0], capex_per_module_usd={"building": 10e6, "tools": 50e6}),
        ],
        "funding": {"investors": [{"id": "i", "kind": "equity", "amount_usd": 1e9, "available_from": "2025Q1"}]},
        # the hand-worked finance tests value the end of the horizon at book value
        "finance": {
            "discount_rate": 0.0,
            "tax_regimes": [{"id": "T", "rate": 0.2}],
            "continuing_value": {"method": "book_value"},
        },
    }
    data.update(copy.deepcopy(changes))
    return data


def scenario(data: dict[str, Any]) -> Scenario:
    """Validate like a file would be: schema, then the semantic checks."""
    result = Scenario.model_validate(data)
    assert check_scenario(result) == []
    return result


@pytest.fixture
def make():
    return lambda **changes: scenario(tiny(**changes))
