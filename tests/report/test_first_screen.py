"""The report is decision first: the verdict, the headline figures and chart open the page (in
a 1280 × 800 window), with the terminal's own sentences; the reports of a folder share one
plotly bundle and each stays well under 1 MB."""

from __future__ import annotations

import html

import pandas as pd
import pytest

from fabnet.report import write_report
from fabnet.report.bundle import bundle_name
from fabnet.report.html import SECTIONS
from fabnet.report.verdict import headline, verdict
from fabnet.store import open_store
from tests.report import bare_run


@pytest.fixture(scope="module")
def first_run(store_with_runs):
    path, jobs = store_with_runs
    with open_store(path, read_only=True) as store:
        return store.run(1), jobs[0]


def test_the_verdict_opens_the_page_and_the_sections_follow_in_order(first_run, tmp_path):
    run, job = first_run
    page = write_report(run, tmp_path / "r.html").read_text()
    sentences = verdict(run)
    assert len(sentences) == 2
    # what the network adds, then the deal's verdict exactly as `fabnet run` prints it
    assert "network adds" in sentences[0] and sentences[1] == job.decision.deal.verdict
    at = [page.index(html.escape(s)) for s in sentences]
    assert page.index('id="verdict"') < at[0] < at[1] < page.index('id="plot-network-adds"')
    order = [page.index(f'id="section-{key}"') for key in SECTIONS if f'id="section-{key}"' in page]
    assert len(order) >= 3 and order == sorted(order) and at[1] < order[0]
    assert page.index('id="plot-deal"') > page.index('id="section-deal"')
    assert page.index('id="plot-fab-timeline"') > page.index('id="section-builds"')


def test_the_report_says_every_sentence_the_terminal_says(first_run, tmp_path):
    """`fabnet run` prints the decision's sentences, then the run's other messages (demand
    unmet and why, ...): each is in the report, word for word, once."""
    run, job = first_run
    page = write_report(run, tmp_path / "r.html").read_text()
    said = [*job.decision.sentences(), *job.messages]
    assert said
    for sentence in said:
        assert page.count(html.escape(sentence)) == 1, sentence


def test_the_headline_figures_are_the_decisions_with_the_deal_last(first_run):
    run, _ = first_run
    rows = headline(run)
    keys = [row.key for row in rows]
    assert keys[:4] == [
        "network_adds_accelerators",
        "network_adds_buyer_gain_usd",
        "network_adds_system_value_usd",
        "fabco_npv_usd",
    ]
    assert keys[-2:] == ["deal_low_share_of_market", "deal_high_share_of_market"]
    assert all(row.band == "" for row in rows)  # a main run holds no sweep


def test_a_sweep_gives_a_headline_figure_its_band():
    samples = pd.DataFrame({"fabco_npv_usd": [float(k) * 1e9 for k in range(11)]})
    run = bare_run('{"fabco_npv_usd": 5e9, "fabco_irr": 0.1}', {"risk_samples": samples})
    rows = {row.key: row for row in headline(run)}
    assert rows["fabco_npv_usd"].band == "P10–P90: $1.00 B to $9.00 B"
    assert rows["fabco_irr"].band == ""  # the samples hold no IRR of the fab company


def test_reports_of_one_folder_share_one_plotly_bundle_and_stay_small(store_with_runs, tmp_path):
    path, _ = store_with_runs
    with open_store(path, read_only=True) as store:
        pages = [write_report(store.run(k), tmp_path / f"run-{k}.html") for k in (1, 2)]
    bundles = list(tmp_path.glob("plotly-*.js"))
    assert [b.name for b in bundles] == [bundle_name()]
    assert "Plotly" in bundles[0].read_text()[:5000]
    for page in pages:
        text = page.read_text()
        assert text.count(f'<script src="{bundle_name()}"></script>') == 1
        assert page.stat().st_size < 1_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([bundle_name(), "run-1.html", "run-2.html"])


def test_the_first_screen_shows_the_verdict_and_the_headline_chart(first_run, tmp_path):
    """In Chromium at 1280 × 800, before any scrolling: the verdict's sentences and the drawn
    headline chart are inside the window."""
    from tests.web.test_web import browser_page

    run, _ = first_run
    page_path = write_report(run, tmp_path / "r.html")
    errors: list[str] = []
    with browser_page(errors) as page:
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(page_path.as_uri())
        page.wait_for_selector("#plot-network-adds .main-svg", timeout=30_000)
        boxes = [page.locator(selector).bounding_box() for selector in ("#verdict p >> nth=-1", "#plot-network-adds")]
    assert errors == []
    for box in boxes:
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 800


def test_a_sweep_opens_on_the_spread_of_the_npv():
    """A risk run has no foundry route to compare with: its verdict is the NPV's spread and the
    chance it is below zero, its headline chart the NPV's histogram."""
    from fabnet.report import report_html

    npv = [float(k) * 1e9 for k in range(-2, 8)]  # ten samples, two below zero
    run = bare_run('{"fabco_npv_usd": 3e9}', {"risk_samples": pd.DataFrame({"fabco_npv_usd": npv})})
    (sentence,) = verdict(run)
    assert sentence.startswith("Across 10 samples") and "is below zero is 20.0 %" in sentence
    page = report_html(run, plotlyjs="/static/plotly.js")
    first = page[page.index('id="verdict"') : page.index("</section>")]
    assert 'id="plot-npv-histogram"' in first and html.escape(sentence) in first
