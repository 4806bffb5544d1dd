"""How a scenario input reads in a comparison (core.columns.show_input)."""

from __future__ import annotations

from fabnet.core.columns import show_input


def test_an_input_in_a_comparison_reads_in_its_fields_unit_or_as_written():
    assert show_input("offtake.share_of_market_price", "0.35") == "35.0 %"
    assert show_input("funding.investors.i.amount_usd", "1000000000.0") == "$1.00 B"
    assert show_input("finance.discount_rate", "0.12") == "0.12"  # no unit in its name: as written
    assert show_input("offtake.spare_wafers_to_market", "true") == "true"
    assert show_input("label", None) == "–"
