"""The screenshots in docs/ from headless Debian Chromium (playwright, as tests/web do): the
report's first screen and its deal, builds and one-at-a-time sections, and the deal room, of a
stored main run — `fabnet sensitivity scenarios/tigris.yaml --store S` makes one with its
tornado.

    .venv/bin/python tools/screenshots.py --store S [--run 1] [--out docs]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
from dashboard_load import served  # benchmarks/ is no package: found by its folder

CHROMIUM = "/usr/bin/chromium"
WINDOW = {"width": 1280, "height": 800}
#: The report's sections shot, by file name: the heading each screen starts at.
SECTIONS = {"report-deal.png": "section-deal", "report-builds.png": "section-builds"}
SECTIONS |= {"report-sensitivity.png": "section-sensitivity"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", required=True)
    parser.add_argument("--run", type=int, default=1)
    parser.add_argument("--out", default="docs")
    args = parser.parse_args()
    out = Path(args.out)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        report = Path(folder) / "report.html"
        command = [sys.executable, "-m", "fabnet", "report", str(args.run), "--store", args.store]
        subprocess.run([*command, "--out", str(report)], check=True, capture_output=True)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport=WINDOW)
        page.goto(report.as_uri())
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        page.screenshot(path=out / "report.png")
        for name, anchor in SECTIONS.items():
            if page.locator(f"#{anchor}").count():
                page.locator(f"#{anchor}").scroll_into_view_if_needed()
                page.evaluate(f"document.getElementById('{anchor}').scrollIntoView()")
                page.wait_for_timeout(500)
                page.screenshot(path=out / name)
        with served(args.store) as base:
            page.set_viewport_size({"width": 1280, "height": 1100})
            page.goto(f"{base}/runs/{args.run}/deal?share=0.8")
            page.locator("body[data-drawn='1']").wait_for(timeout=60_000)
            page.screenshot(path=out / "deal-room.png", full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
