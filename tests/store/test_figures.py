"""Key figures: one object from the pipeline to the store and back, investors as rows."""

from __future__ import annotations

import json
import pickle

import pytest

from fabnet.store.base import figures_json
from fabnet.store.figures import InvestorReturn, KeyFigures

# the flat form a store written before issue 29 holds: investors' IRRs after the equity IRR
STORED = {
    "fabco_npv_usd": 5.62e9,
    "fabco_irr": 0.338,
    "equity_irr": 0.464,
    "irr_g42": 0.41,
    "irr_company": None,
    "deal_low_share_of_market": 0.39,
    "payback_quarter": "2029Q3",
}


def test_the_flat_form_reads_back_with_investors_as_rows_in_the_same_order():
    figures = KeyFigures.of(STORED)
    assert figures.investors == (InvestorReturn("g42", 0.41), InvestorReturn("company", None))
    assert "irr_g42" not in figures.by_name
    assert list(figures) == list(STORED)
    assert dict(figures) == STORED
    assert figures == STORED and figures == KeyFigures.of(dict(STORED))
    assert json.loads(figures_json(figures)) == STORED


def test_a_figure_reads_by_name_by_attribute_and_an_investor_by_id():
    figures = KeyFigures.of(STORED)
    assert figures["fabco_npv_usd"] == figures.fabco_npv_usd == 5.62e9
    assert figures["irr_g42"] == figures.irr_of("g42") == 0.41
    with pytest.raises(KeyError, match="among g42, company"):
        figures.irr_of("softbank")
    with pytest.raises(AttributeError, match="no key figure"):
        _ = figures.fabco_npv
    assert len(figures) == len(STORED)


def test_more_figures_join_after_and_replace_their_namesakes():
    figures = KeyFigures.of(STORED) | {"fabco_irr": 0.2, "check_site": "kumamoto", "irr_mubadala": 0.1}
    assert figures["fabco_irr"] == 0.2
    assert list(figures)[-1] == "check_site"
    assert [row.investor for row in figures.investors] == ["g42", "company", "mubadala"]


def test_a_notebook_gets_a_frame_of_labels_values_and_units():
    frame = KeyFigures.of(STORED).to_frame()
    assert frame.index.name == "figure"
    assert frame.at["fabco_npv_usd", "unit"] == "usd"
    assert frame.at["irr_g42", "label"] == "IRR of investor g42"
    assert frame.at["irr_g42", "value"] == 0.41
    assert "fabco_npv_usd" in KeyFigures.of(STORED)._repr_html_()


def test_figures_cross_process_boundaries_intact():
    figures = KeyFigures.of(STORED)
    assert pickle.loads(pickle.dumps(figures)) == figures
