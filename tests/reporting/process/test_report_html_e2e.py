"""`opsuite report <mandate> --html FILE` as a user runs it: real market (its run finished), ledger and
reporting processes, and `python -m services.cli` pointed at reporting by OPSUITE_REPORTING_ADDR.

The page it writes is one self-contained file whose figures are reporting's: the NAV of GetReport, the
growth and drawdown of GetNavHistory's cumulative returns, and every sector group of the since-inception
attribution. The page is read with html.parser (tests/cli/html_page.py); test_report_html_browser.py opens it in a
real Chromium.
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from opsuite.common.v1 import common_pb2
from opsuite.reporting.v1 import reporting_pb2
from tests.cli.html_page import Page, read_page, urls_outside_namespaces
from tests.reporting.process.conftest import Suite
from tests.support.processes import ROOT

CHARTS = ("growth", "drawdown", "attribution-sector", "attribution-asset-class")


def opsuite_report(suite: Suite, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))}
    env["OPSUITE_REPORTING_ADDR"] = suite.reporting.address
    env["PYTHONPATH"] = str(ROOT)  # run from a scratch directory, as a user would
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "report", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _nav(money: common_pb2.Money) -> str:
    return f"{Decimal(money.amount.value):,.2f}"


def _assert_self_contained(text: str, page: Page) -> None:
    assert page.external_references() == [], "script src, link href, img src ... point elsewhere"
    assert urls_outside_namespaces(text) == []
    assert not {"script", "link", "img", "iframe"} & set(page.tags)
    assert len(page.ids) == len(set(page.ids))


def test_the_page_shows_reportings_figures_and_three_charts(suite: Suite, tmp_path: Path) -> None:
    result = opsuite_report(suite, tmp_path, "BAL-USD", "--html", "out.html")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "wrote out.html\n" and result.stdout == ""
    assert [p.name for p in tmp_path.iterdir()] == ["out.html"]  # the temporary file was renamed
    text = (tmp_path / "out.html").read_text(encoding="utf-8")
    page = read_page(text)
    _assert_self_contained(text, page)

    report = suite.report("BAL-USD")
    header = page.all_text
    assert report.ledger.status == "AGREES"
    assert _nav(report.nav.nav) in header
    assert f"{Decimal(report.nav.nav_per_unit.amount.value):,.4f}" in header
    assert "AGREES" in header and page.title.startswith(f"BAL-USD at {report.as_of.year}-")

    assert set(CHARTS) <= set(page.figures)
    for name in CHARTS:
        assert page.figures[name].svgs == 1, name
    assert page.figures["growth"].caption.startswith("Growth since inception")
    assert page.figures["drawdown"].caption.startswith("Drawdown")
    assert page.figures["attribution-sector"].caption == "Attribution by sector, since inception"

    # The growth chart ends on GetNavHistory's last cumulative return, and draws the benchmark when
    # reporting sends its series (a note says so when it does not).
    history = suite.history("BAL-USD")
    growth = page.figures["growth"]
    assert f"{history[-1].cumulative_return * 100:+.2f}%" in growth.chart_text
    if any(p.benchmark_cumulative_return for p in history):
        assert "benchmark" in growth.chart_text
        assert f"{history[-1].benchmark_cumulative_return * 100:+.2f}%" in growth.chart_text
    else:
        assert "Reporting sent no benchmark series" in growth.all_text

    # The drawdown chart's trough is reporting's own maximum drawdown since inception, where it sends one.
    since = {p.period: p for p in report.performance}[reporting_pb2.PERIOD_SINCE_INCEPTION]
    if since.HasField("max_drawdown"):
        assert f"worst {since.max_drawdown * 100:+.2f}%" in page.figures["drawdown"].chart_text

    (sectors,) = [
        a
        for a in report.attribution
        if a.period == reporting_pb2.PERIOD_SINCE_INCEPTION and a.dimension == "sector"
    ]
    assert len(sectors.groups) > 3
    for group in sectors.groups:
        assert group.group in page.figures["attribution-sector"].chart_text, group.group


def test_the_page_follows_as_of_and_a_chosen_attribution_period(suite: Suite, tmp_path: Path) -> None:
    (tmp_path / "fi.html").write_text("yesterday's page")
    result = opsuite_report(
        suite, tmp_path, "FI-USD", "--as-of", "2020-03-02", "--html", "fi.html", "--attribution-period", "mtd"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "wrote fi.html\n"
    assert [p.name for p in tmp_path.iterdir()] == ["fi.html"]
    page = read_page((tmp_path / "fi.html").read_text(encoding="utf-8"))
    then = suite.report("FI-USD", common_pb2.Date(year=2020, month=3, day=2))
    latest = suite.report("FI-USD")
    assert page.title.startswith("FI-USD at 2020-03-02")
    assert _nav(then.nav.nav) in page.all_text and _nav(latest.nav.nav) not in page.all_text
    assert "20 day ends" in page.all_text  # the history stops at the report's day end
    assert page.figures["attribution-sector"].caption == "Attribution by sector, MTD"


def test_errors_stay_one_line_and_write_nothing(suite: Suite, tmp_path: Path) -> None:
    early = opsuite_report(suite, tmp_path, "FI-USD", "--as-of", "2019-01-02", "--html", "x.html")
    assert early.returncode == 2
    assert early.stderr.splitlines() == [
        "opsuite report: as_of 2019-01-02 is outside the valued history, 2020-02-03 to 2020-03-16"
    ]
    nowhere = opsuite_report(suite, tmp_path, "FI-USD", "--html", "missing/x.html")
    assert nowhere.returncode == 1
    assert nowhere.stderr.splitlines() == [
        "opsuite report: cannot write missing/x.html: No such file or directory"
    ]
    alone = opsuite_report(suite, tmp_path, "FI-USD", "--attribution-period", "MTD")
    assert alone.returncode == 2 and len(alone.stderr.splitlines()) == 1, alone.stderr
    assert list(tmp_path.iterdir()) == []
