"""The HTML report: every figure, self-contained."""

from __future__ import annotations

import pandas as pd

from fabnet.report import FIGURES, figures, report_html, write_report
from fabnet.store import StoredRun, open_store


def test_report_holds_every_figure_the_run_has_data_for(store_with_runs, tmp_path):
    path, _ = store_with_runs
    with open_store(path, read_only=True) as store:
        run = store.run(1)
    page = write_report(run, tmp_path / "r.html").read_text()
    # no simulation, no sweep, no load curve on the tiny node; a plan check when SMT2020 is here
    expected = set(FIGURES) - {"operating-curve", "risk-fan", "tornado", "load-curves"}
    if "check_quarters" not in run.tables:
        expected -= {"plan-check", "plan-check-deliveries"}
    assert set(figures(run)) == expected
    for name in expected:
        assert f'id="plot-{name}"' in page
    assert "fabnet run 1: tiny" in page
    # the decision comes first: its figures head the table, its plots head the page
    assert list(figures(run))[:2] == ["network-adds", "deal"]
    assert page.index("accelerators the network adds") < page.index("fab company NPV") < page.index(
        "accelerators demanded")


def test_report_opens_offline():
    run = StoredRun({"run_id": 1, "scenario_name": "s", "created_at": "t", "fabnet_version": "v",
                     "scenario_hash": "h", "seed": 0, "solver_status": "ok", "figures": "{}"},
                    {"sim_curve": pd.DataFrame({"release_scale": [0.5, 1.0], "bottleneck_utilisation": [0.5, 0.9],
                                                "x_factor": [1.2, 2.0]})})
    page = report_html(run)
    assert 'id="plot-operating-curve"' in page
    assert "<script src=" not in page  # plotly.js is inlined, nothing is fetched
    assert len(page) > 1_000_000 and "Plotly" in page


def test_dashboard_pages_link_plotly_once():
    run = StoredRun({"run_id": 1, "scenario_name": "s", "created_at": "t", "fabnet_version": "v",
                     "scenario_hash": "h", "seed": 0, "solver_status": "ok", "figures": "{}"},
                    {"sim_curve": pd.DataFrame({"release_scale": [1.0], "bottleneck_utilisation": [0.9],
                                                "x_factor": [2.0]})})
    page = report_html(run, plotlyjs="/static/plotly.js")
    assert page.count('<script src="/static/plotly.js">') == 1 and len(page) < 100_000
