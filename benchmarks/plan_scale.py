"""Planner scale: generated networks up to 100 sites × 6 nodes × 80 quarters. Prints model-build
seconds, solve seconds (and of those the polishing pass's, solve.py), gap and peak memory for
each size, with the cycle time constant and load-dependent (issue 8: the clearing function's
queue and rows), and the ratio between them; asserts nothing.

    .venv/bin/python benchmarks/plan_scale.py                # all sizes
    .venv/bin/python benchmarks/plan_scale.py 100 6 80       # one size

Each size runs in its own process so that its peak memory (ru_maxrss) is its own.
Target (issue 3): 100 × 6 × 80 to a 1 % gap in under 60 s, model build under 5 s.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import numpy as np

SIZES = [(10, 2, 20), (30, 5, 40), (100, 6, 80)]


#: Demand per node grows from this many wafer starts per month to the next over the horizon;
#: a node's candidate sites could build far more (about 17 sites × 2 modules × 10 k), so the
#: planner must choose which few to build, as in a real network.
DEMAND_WSPM = (5_000, 60_000)


#: Investors' money per node. Ample: the budget seldom binds and the planner chooses builds by
#: demand. At $10 B a node it binds, and with operating cash reinvested the MILP gets much
#: harder (30 × 5 × 40: 0.4 s at $20 B against a 2.3 % gap after 60 s at $10 B), as the
#: fab company's wafer revenue then decides which modules it can afford: measured once below.
FUNDING_PER_NODE = 20e9
BINDING_FUNDING_PER_NODE = 10e9


def generated_scenario(
    sites: int, nodes: int, quarters: int, seed: int = 1, funding_per_node: float = FUNDING_PER_NODE
) -> dict:
    """A network in the shape of tigris: every node has a product, a foundry offer and sites."""
    from fabnet.chips import die_economics

    rng = np.random.default_rng(seed)
    node_ids = [f"N{i}" for i in range(nodes)]
    first_year = 2024
    products = []
    for i, node in enumerate(node_ids):
        width, height, dies = 20 + i % 6, 25 + i % 8, 1 + i % 2
        good = die_economics(
            die_w_mm=width, die_h_mm=height, d0_per_cm2=0.08, wafer_cost_usd=1, edge_mm=3, scribe_mm=0.1
        ).good_dies
        wspm = np.linspace(*DEMAND_WSPM, quarters // 4 + 1) * rng.uniform(0.7, 1.3)
        products.append(
            {
                "id": f"p{i}",
                "node": node,
                "compute_dies_per_package": dies,
                "die_width_mm": width,
                "die_height_mm": height,
                "hbm": "hbm",
                "hbm_stacks": 8,
                "packaging": f"line{i % 2}",
                "market_price_usd": 30000,
                "demand": {"per_year": {first_year + y: float(w * 12 * good / dies) for y, w in enumerate(wspm)}},
            }
        )
    site_list = [
        {
            "id": f"s{i}",
            "region": "R",
            "node": node_ids[i % nodes],
            "module_wspm": 10000,
            "max_modules": 2,
            "capex_per_module_usd": {
                "building": float(rng.uniform(1, 3) * 1e9),
                "tools": float(rng.uniform(3, 5) * 1e9),
            },
            "lead_time_q": int(rng.integers(6, 14)),
            "ramp": [0.2, 0.5, 0.8, 1.0],
            "opex_per_wafer_usd": float(rng.uniform(1200, 2000)),
            "fixed_opex_per_module_q_usd": float(rng.uniform(1800, 3000) * 30000),
            "grants": {"share_of_capex": 0.1},
            "tax_regime": "T",
            "earliest_start": f"{first_year + int(rng.integers(0, 3))}Q1",
        }
        for i in range(sites)
    ]
    return {
        "name": f"scale-{sites}x{nodes}x{quarters}",
        "horizon": {"start": f"{first_year}Q1", "quarters": quarters},
        "nodes": [
            {
                "id": n,
                "wafer_price_usd": 15000 + 2000 * i,
                "mask_layers": 80,
                "days_per_mask_layer": 1.2,
                "defect_density": {"ramp_per_cm2": 0.3, "mature_per_cm2": 0.08, "learning_rate_per_q": 0.3},
            }
            for i, n in enumerate(node_ids)
        ],
        "products": products,
        "hbm": [{"id": "hbm", "price_usd": 500}],
        "packaging": [
            {
                "id": f"line{k}",
                "packages_per_wafer": 16 + 10 * k,
                "yield": 0.95,
                "capacity_wafers_per_month": {f"{first_year}Q1": 200000 * nodes},
                "expansion": {"module_wafers_per_month": 5000, "capex_usd": 1.5e9, "lead_time_q": 4, "max_modules": 6},
            }
            for k in range(2)
        ],
        "sites": site_list,
        "foundry_offers": [{"node": n, "max_wafers_per_month": 8000, "price_premium": 0.15} for n in node_ids],
        "funding": {
            "reinvest_operating_cash": True,
            "investors": [
                {
                    "id": "a",
                    "kind": "equity",
                    "amount_usd": funding_per_node * nodes,
                    "available_from": f"{first_year}Q1",
                }
            ],
        },
        "finance": {"discount_rate": 0.095, "tax_regimes": [{"id": "T", "rate": 0.21}]},
    }


CYCLE_TIMES = ("constant", "load")


def measure(sites: int, nodes: int, quarters: int, cycle_time: str, funding: float = FUNDING_PER_NODE) -> dict:
    from fabnet.network import prepare
    from fabnet.plan import SolveOptions, build_from_inputs, solve
    from fabnet.scenario.schema import Scenario

    scenario = Scenario.model_validate(generated_scenario(sites, nodes, quarters, funding_per_node=funding))
    start = time.perf_counter()
    model = build_from_inputs(prepare(scenario, cycle_time=cycle_time))
    build_s = time.perf_counter() - start
    result = solve(model, SolveOptions(time_limit_s=120, mip_gap=0.01, threads=2))
    return {
        "size": f"{sites} × {nodes} × {quarters}",
        "cycle_time": cycle_time,
        "variables": int(model.nvars),
        "constraints": int(model.ncons),
        "build_s": build_s,
        "solve_s": result.seconds,
        "polish_s": result.polish_s,
        "status": result.termination,
        "gap": result.gap,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    if len(sys.argv) == 7 and sys.argv[1] == "--one":
        print(json.dumps(measure(*map(int, sys.argv[2:5]), sys.argv[5], float(sys.argv[6]))))
        return
    sizes = [tuple(map(int, sys.argv[1:4]))] if len(sys.argv) == 4 else SIZES
    print(
        f"{'size':<16}{'cycle time':<10}{'vars':>9}{'rows':>9}{'build s':>9}{'solve s':>9}{'polish s':>9}{'gap':>8}"
        f"{'peak MB':>9}  status"
    )
    for size in sizes:
        seconds = {}
        for cycle_time in CYCLE_TIMES:
            r = _run(size, cycle_time, FUNDING_PER_NODE)
            seconds[cycle_time] = r["build_s"] + r["solve_s"]
        print(f"{'':<16}load-dependent / constant, build + solve: {seconds['load'] / seconds['constant']:.2f}×")
    if len(sys.argv) != 4:
        print(f"with the budget binding (${BINDING_FUNDING_PER_NODE / 1e9:.0f} B a node, operating cash reinvested):")
        _run((30, 5, 40), "constant", BINDING_FUNDING_PER_NODE)


def _run(size: tuple[int, ...], cycle_time: str, funding: float) -> dict:
    line = (
        subprocess.run(
            [sys.executable, __file__, "--one", *map(str, size), cycle_time, str(funding)],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    r = json.loads(line)
    gap = "–" if r["gap"] is None else f"{r['gap']:.2%}"
    print(
        f"{r['size']:<16}{cycle_time:<10}{r['variables']:>9,}{r['constraints']:>9,}{r['build_s']:>9.2f}"
        f"{r['solve_s']:>9.2f}{r['polish_s']:>9.2f}{gap:>8}{r['peak_mb']:>9.0f}  {r['status']}",
        flush=True,
    )
    return r


if __name__ == "__main__":
    main()
