"""The page `opsuite report <mandate> --html FILE` writes, as a person sees it in a real Chromium.

The package's finished suite (conftest.py) serves the report; the page is written by the real command
(the path of test_report_html_e2e.py) and opened from its file:// URL in headless Chromium
(tests/support/browser.py). What is checked is what shows: the title and heading name the mandate, the
charts are drawn with a size on screen (five for a mandate in more than one currency, EQ-EUR and BAL-USD:
growth, drawdown, and attribution by sector, asset class and currency), the page loads nothing from
anywhere (no request but the file itself or a data: URI), the console stays free of errors, and the NAV
and the return since inception shown in the tiles are reporting's GetReport figures for the same mandate.
On BAL-USD's page also: the currency chart shows every currency and its five effects, the attribution
note names the active return the tiles show, and the growth and drawdown plot areas line up on screen.
Each test saves a screenshot of the whole page to its tmp_path, to look at.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from opsuite.reporting.v1 import reporting_pb2
from tests.reporting.process.conftest import Suite
from tests.reporting.process.test_report_html_e2e import opsuite_report
from tests.support.browser import Browser

if TYPE_CHECKING:  # only for types: without Playwright, Browser.open skips the test instead
    from playwright.sync_api import Page

MANDATE = "EQ-EUR"
CHARTS = {
    "growth": "Growth since inception",
    "drawdown": "Drawdown since inception",
    "attribution-sector": "Attribution by sector, since inception",
    "attribution-asset-class": "Attribution by asset class, since inception",
    "attribution-currency": "Attribution by currency, since inception",  # both mandates hold two currencies
}


def _tile_value(browser: Browser, label: str) -> str:
    """The big figure of the tile whose label reads `label` (the label is shown in capitals by CSS)."""
    tile = browser.page.locator(".tile").filter(has=browser.page.locator(".label", has_text=label))
    assert tile.count() == 1, f"one tile labelled {label!r}"
    value = tile.locator(".value")
    assert value.is_visible(), label
    return value.inner_text().strip()


def _assert_charts_drawn(page: Page) -> None:
    """Each chart is an inline SVG laid out with a real size, inside the page's width, its caption shown
    above it and its drawing made of visible marks (lines, bars, text)."""
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

        _assert_charts_drawn(page)
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


def _percent(value: float) -> str:
    return f"{value * 100:+.2f}%"


@pytest.mark.slow
def test_bal_usds_page_in_chromium_draws_its_currency_attribution_and_lines_up_its_history_charts(
    suite: Suite, tmp_path: Path
) -> None:
    mandate = "BAL-USD"
    result = opsuite_report(suite, tmp_path, mandate, "--html", "bal.html")
    assert result.returncode == 0, result.stderr
    url = (tmp_path / "bal.html").as_uri()
    report = suite.report(mandate)
    (by_currency,) = [
        a
        for a in report.attribution
        if a.period == reporting_pb2.PERIOD_SINCE_INCEPTION and a.dimension == "currency"
    ]
    assert len(by_currency.groups) > 1
    since = {p.period: p for p in report.performance}[reporting_pb2.PERIOD_SINCE_INCEPTION]

    with Browser.open(width=1280, height=900) as browser:
        browser.goto(url)
        page = browser.page
        _assert_charts_drawn(page)
        assert browser.console_errors == [] and browser.page_errors == []

        # The currency chart names every currency reporting attributed and all five effects, in view.
        currency = page.locator("figure#attribution-currency svg")
        for group in by_currency.groups:
            assert currency.get_by_text(group.group, exact=True).is_visible(), group.group
        for effect in ("allocation", "selection", "interaction", "currency", "cross", "total"):
            assert currency.get_by_text(effect, exact=True).is_visible(), effect

        # One active return on the page: the notes explain part of the one the tile shows, and say the rest.
        tile_note = page.locator(".tile", has=page.locator(".label", has_text="return since inception"))
        assert f"active {_percent(since.active_return)}" in tile_note.locator(".note").inner_text()
        note = page.locator("figure#attribution-currency .note").inner_text()
        assert (
            f"The effects explain {_percent(by_currency.total_active_return)} of the "
            f"{_percent(since.active_return)} active return"
        ) in note, note
        assert f"{_percent(by_currency.not_attributed)} is not attributed" in note, note

        # The growth and drawdown charts' plot areas share their left and right edges on screen.
        edges = {}
        for chart in ("growth", "drawdown"):
            box = page.locator(f"figure#{chart} svg [id='{chart}-plot-area'] path").bounding_box()
            assert box is not None and box["width"] > 600, (chart, box)
            edges[chart] = (box["x"], box["x"] + box["width"])
        assert edges["growth"] == pytest.approx(edges["drawdown"], abs=1.0), edges

        browser.screenshot(tmp_path / "bal.png")
    print(f"screenshot {tmp_path / 'bal.png'}")
