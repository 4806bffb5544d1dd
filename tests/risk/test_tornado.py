"""The tornado lists only inputs that touch the plan the sweep holds: one rule
(risk.summary.touches_plan) for the terminal table, the stored inputs and the report."""

from __future__ import annotations

import pandas as pd
import pytest

from fabnet.risk.summary import built_sites, inputs_table, summarise, touches_plan
from fabnet.scenario.loader import load_scenario
from tests.conftest import TIGRIS


@pytest.mark.parametrize(
    ("path", "built", "touches"),
    [
        ("sites.arizona.lead_time_q", {"kumamoto"}, False),  # the case: only kumamoto built
        ("sites.kumamoto.lead_time_q", {"kumamoto"}, True),
        ("sites[0].lead_time_q", {"kumamoto"}, False),  # sites[0] is arizona
        ("sites[1].lead_time_q", {"kumamoto"}, True),
        ("operators.intel.fee_per_wafer_usd", {"kumamoto"}, False),  # intel runs arizona only
        ("operators.tsmc.revenue_share", {"kumamoto"}, True),  # tsmc runs kumamoto
        ("nodes.N3.wafer_price_usd", {"kumamoto"}, True),  # not a site's: touches any plan
        ("nodes.N3.wafer_price_usd", set(), True),
        ("sites.arizona.lead_time_q", None, True),  # planned anew per sample: any site may be built
    ],
)
def test_an_input_touches_the_plan_unless_it_is_an_unbuilt_sites(path, built, touches):
    assert touches_plan(load_scenario(TIGRIS), path, built) is touches


def test_the_tornado_and_the_stored_inputs_leave_out_unbuilt_sites():
    s = load_scenario(TIGRIS)
    paths = [u.path for u in s.uncertainty]
    samples = pd.DataFrame(
        {"fabco_npv_usd": range(10), "buyer_net_usd": range(10), "unmet": range(10)}
        | {f"input_{j}": [(j + 1) * k % 13 for k in range(10)] for j in range(len(paths))}
    )
    built = built_sites(pd.DataFrame({"site": ["kumamoto", "arizona"], "modules": [1, 0]}))
    assert built == {"kumamoto"}
    tornado = summarise(s, samples, built)["tornado"]
    assert "sites.arizona.lead_time_q" in paths and "sites.abu_dhabi.lead_time_q" in paths
    assert set(tornado["path"]) == set(paths) - {"sites.arizona.lead_time_q", "sites.abu_dhabi.lead_time_q"}
    stored = inputs_table(s, built)
    assert dict(zip(stored["path"], stored["touches_plan"], strict=True))["sites.arizona.lead_time_q"] is False
    # every input when the plan is made anew per sample
    assert set(summarise(s, samples)["tornado"]["path"]) == set(paths)


def test_the_report_tornado_leaves_out_inputs_that_do_not_touch_the_plan():
    from fabnet.report.figures import tornado

    s = load_scenario(TIGRIS)
    samples = pd.DataFrame(
        {"fabco_npv_usd": range(10)}
        | {f"input_{j}": [(j + 1) * k % 13 for k in range(10)] for j in range(len(s.uncertainty))}
    )
    figure = tornado({"risk_samples": samples, "risk_inputs": inputs_table(s, {"kumamoto"})})
    assert figure is not None
    shown = set(figure.data[0].customdata)
    assert "sites.arizona.lead_time_q" not in shown and "sites.abu_dhabi.lead_time_q" not in shown
    assert "offtake.take_or_pay_share" in shown
