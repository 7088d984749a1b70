"""The page `opsuite report <mandate> --html FILE` writes, as a person sees it in a real Chromium.

The package's finished suite (conftest.py) serves the report; the page is written by the real command
(the path of test_report_html_e2e.py) and opened from its file:// URL in headless Chromium
(tests/support/browser.py). What is checked is what shows: the title and heading name the mandate, the
four charts are drawn with a size on screen, the page loads nothing from anywhere (no request but the
file itself or a data: URI), the console stays free of errors, and the NAV and the return since inception
shown in the tiles are reporting's GetReport figures for the same mandate.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest

from opsuite.reporting.v1 import reporting_pb2
from tests.reporting.process.conftest import Suite
from tests.reporting.process.test_report_html_e2e import opsuite_report
from tests.support.browser import Browser

MANDATE = "EQ-EUR"
CHARTS = {
    "growth": "Growth since inception",
    "drawdown": "Drawdown since inception",
    "attribution-sector": "Attribution by sector, since inception",
    "attribution-asset-class": "Attribution by asset class, since inception",
}


def _tile_value(browser: Browser, label: str) -> str:
    """The big figure of the tile whose label reads `label` (the label is shown in capitals by CSS)."""
    tile = browser.page.locator(".tile").filter(has=browser.page.locator(".label", has_text=label))
    assert tile.count() == 1, f"one tile labelled {label!r}"
    value = tile.locator(".value")
    assert value.is_visible(), label
    return value.inner_text().strip()


@pytest.mark.slow
def test_the_page_in_chromium_names_the_mandate_draws_its_charts_and_shows_reportings_nav(
    suite: Suite, tmp_path: Path
) -> None:
    result = opsuite_report(suite, tmp_path, MANDATE, "--html", "report.html")
    assert result.returncode == 0, result.stderr
    page_file = tmp_path / "report.html"
    url = page_file.as_uri()
    report = suite.report(MANDATE)
    as_of = f"{report.as_of.year:04d}-{report.as_of.month:02d}-{report.as_of.day:02d}"

    started = time.monotonic()
    with Browser.open(width=1280, height=900) as browser:
        browser.goto(url)
        page = browser.page

        # The tab and the heading name the mandate and the day end.
        assert page.title().startswith(f"{MANDATE} at {as_of}"), page.title()
        heading = page.locator("header h1")
        assert heading.is_visible()
        assert heading.inner_text().split()[0] == MANDATE
        assert f"Day end {as_of}" in page.locator("header .sub").inner_text()

        # Each chart is an inline SVG laid out with a real size, inside the page's width, its caption shown
        # above it and its drawing made of visible marks (lines, bars, text).
        viewport_width = page.viewport_size["width"] if page.viewport_size else 1280
        for ident, caption in CHARTS.items():
            figure = page.locator(f"figure#{ident}")
            assert figure.locator("figcaption").inner_text().startswith(caption), ident
            svg = figure.locator("svg.chart-svg")
            assert svg.count() == 1, ident
            assert svg.is_visible(), ident
            box = svg.bounding_box()
            assert box is not None and box["width"] > 400 and box["height"] > 100, (ident, box)
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport_width, (ident, box)
            drawn = svg.evaluate(
                """svg => [...svg.querySelectorAll('path, text, use')]
                    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 || r.height > 0; })
                    .length"""
            )
            assert drawn > 10, (ident, drawn)
        growth = page.locator("figure#growth svg")
        assert growth.get_by_text("portfolio", exact=True).is_visible()
        if any(p.benchmark_cumulative_return for p in suite.history(MANDATE)):
            assert growth.get_by_text("benchmark", exact=True).is_visible()

        # Self-contained: the only request is the file itself (data: URIs would be allowed).
        assert browser.requests, "the page's own request was recorded"
        outside = [u for u in browser.requests if u != url and not u.startswith("data:")]
        assert outside == [], outside
        assert browser.console_errors == [] and browser.page_errors == []

        # The figures shown are reporting's, formatted as a person reads them.
        nav = report.nav.nav
        assert _tile_value(browser, f"NAV ({nav.currency})") == f"{Decimal(nav.amount.value):,.2f}"
        since = {p.period: p for p in report.performance}[reporting_pb2.PERIOD_SINCE_INCEPTION]
        assert since.has_return
        shown = _tile_value(browser, "return since inception")
        assert shown == f"{since.portfolio_return * 100:+.2f}%", shown

        browser.screenshot(tmp_path / "report.png")
    print(f"browser part: {time.monotonic() - started:.1f} s; screenshot {tmp_path / 'report.png'}")
