"""`opsuite report --html`'s page, drawn from report messages made here (no server): one self-contained
page whose charts follow the figures, where no text from the server can become markup, written atomically;
its attribution notes reconcile the effects with the time-weighted active return, a mandate attributed by
currency gets a fifth chart, prices name their currency and the growth and drawdown charts share their x.

The same page drawn from a real suite, through the entry point: tests/reporting/process/test_report_html_e2e.py.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from pathlib import Path

import pytest

from opsuite.common.v1 import common_pb2
from opsuite.reporting.v1 import reporting_pb2
from services.cli import report_html
from tests.cli.html_page import read_page, urls_outside_namespaces

SECTORS = ("Information Technology", "Health Care", "Government")
HOSTILE = "<script>alert('x')</script> & \"quoted\" $x$"


def _date(day: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=day.year, month=day.month, day=day.day)


def _money(amount: str, ccy: str = "USD") -> common_pb2.Money:
    return common_pb2.Money(amount=common_pb2.Decimal(value=amount), currency=ccy)


def _group(
    name: str,
    allocation: float,
    selection: float,
    interaction: float,
    currency: float = 0.0,
    cross: float = 0.0,
) -> reporting_pb2.AttributionGroup:
    return reporting_pb2.AttributionGroup(
        group=name,
        allocation_effect=allocation,
        selection_effect=selection,
        interaction_effect=interaction,
        currency_effect=currency,
        cross_effect=cross,
        total_effect=allocation + selection + interaction + currency + cross,
    )


def _totals(attribution: reporting_pb2.Attribution, active: float) -> None:
    """Totals as reporting sends them: the effects' sums, the active return they explain, and what the
    time-weighted `active` leaves unattributed."""
    groups = attribution.groups
    attribution.total_allocation_effect = sum(g.allocation_effect for g in groups)
    attribution.total_selection_effect = sum(g.selection_effect for g in groups)
    attribution.total_interaction_effect = sum(g.interaction_effect for g in groups)
    attribution.total_currency_effect = sum(g.currency_effect for g in groups)
    attribution.total_cross_effect = sum(g.cross_effect for g in groups)
    attribution.total_active_return = sum(g.total_effect for g in groups)
    attribution.not_attributed = active - attribution.total_active_return


ACTIVE = 0.0219  # the time-weighted active return of every period in a_report
CURRENCIES = (
    ("USD", 0.0008, 0.0190, 0.0002, -0.0004, 0.0001),
    ("EUR", 0.0010, 0.0021, -0.0003, 0.0006, -0.0002),
)


def a_report(
    *,
    sector_names: tuple[str, ...] = SECTORS,
    name: str = "Hudson Balanced 60/40",
    by_currency: bool = False,
) -> reporting_pb2.Report:
    report = reporting_pb2.Report(
        mandate_id="BAL-USD",
        name=name,
        base_currency="USD",
        benchmark="58% US equity / 42% bonds",
        as_of=_date(dt.date(2020, 3, 16)),
        as_of_seq=4242,
    )
    report.nav.nav.CopyFrom(_money("231753954.53"))
    report.nav.nav_per_unit.CopyFrom(_money("92.701582"))
    report.nav.units_outstanding.value = "2500000"
    report.nav.securities_value.CopyFrom(_money("218110018.31"))
    report.nav.cash_value.CopyFrom(_money("13643936.22"))
    report.ledger.status = "AGREES"
    report.ledger.detail = "equal to the cent"
    report.ledger.ledger_nav.CopyFrom(_money("231753954.53"))
    report.ledger.difference.CopyFrom(_money("0.00"))
    for period in (reporting_pb2.PERIOD_DAY, reporting_pb2.PERIOD_SINCE_INCEPTION):
        report.performance.add(
            period=period,
            start=_date(dt.date(2020, 2, 3)),
            end=report.as_of,
            portfolio_return=-0.073,
            benchmark_return=-0.0949,
            active_return=ACTIVE,
            volatility=0.0955,
            tracking_error=0.0424,
            pnl=_money("-18246045.47"),
            has_return=True,
        )
    sector = report.attribution.add(period=reporting_pb2.PERIOD_SINCE_INCEPTION, dimension="sector")
    for i, group in enumerate(sector_names):
        sector.groups.append(_group(group, 0.001 * (i + 1), -0.0005 * i, 0.0001))
    _totals(sector, ACTIVE)
    asset_class = report.attribution.add(period=reporting_pb2.PERIOD_SINCE_INCEPTION, dimension="asset_class")
    for group in ("EQUITY", "GOVERNMENT_BOND", "Cash"):
        asset_class.groups.append(_group(group, 0.002, 0.001, -0.0001))
    _totals(asset_class, ACTIVE)
    if by_currency:
        currency = report.attribution.add(period=reporting_pb2.PERIOD_SINCE_INCEPTION, dimension="currency")
        for effects in CURRENCIES:
            currency.groups.append(_group(*effects))
        _totals(currency, ACTIVE)
    month = report.attribution.add(period=reporting_pb2.PERIOD_MONTH_TO_DATE, dimension="sector")
    month.groups.append(_group("Only In March", 0.003, 0.0, 0.0))
    _totals(month, ACTIVE)
    report.holdings.add(
        instrument_id="UST-20500215",
        name="United States Treasury 2% 2050",
        asset_class=common_pb2.ASSET_CLASS_GOVERNMENT_BOND,
        currency="USD",
        quantity=common_pb2.Decimal(value="7923000"),
        price=common_pb2.Decimal(value="116.289"),
        base_market_value=_money("9213577.47"),
        weight=0.04,
    )
    report.holdings.add(
        instrument_id="UK-MDWY",
        name="Medway Utilities",
        asset_class=common_pb2.ASSET_CLASS_EQUITY,
        currency="GBP",
        quantity=common_pb2.Decimal(value="305005"),
        price=common_pb2.Decimal(value="9.02"),
        base_market_value=_money("3551213.22"),
        weight=0.015,
    )
    return report


def a_history(days: int = 30, *, with_benchmark: bool = True) -> list[reporting_pb2.NavPoint]:
    points = []
    growth = benchmark = 1.0
    start = dt.date(2020, 2, 3)
    for i in range(days):
        daily = 0.004 if i < days // 2 else -0.006
        bench = 0.005 if i < days // 2 else -0.008
        growth *= 1 + daily
        benchmark *= 1 + bench
        point = reporting_pb2.NavPoint(
            date=_date(start + dt.timedelta(days=i)), daily_return=daily, cumulative_return=growth - 1
        )
        if with_benchmark:
            point.benchmark_daily_return = bench
            point.benchmark_cumulative_return = benchmark - 1
        points.append(point)
    return points


# ---------------------------------------------------------------- the figures behind the charts


def test_drawdown_is_the_wealth_index_below_its_running_peak_counting_the_start() -> None:
    assert report_html.drawdowns([0.10, 0.05, 0.20, -0.10]) == pytest.approx(
        [0.0, 1.05 / 1.10 - 1, 0.0, 0.9 / 1.2 - 1]
    )
    assert report_html.drawdowns([-0.02, 0.01]) == pytest.approx([-0.02, 0.0])  # below the start's 1 at once
    assert report_html.drawdowns([]) == []


def test_a_history_whose_benchmark_figures_are_all_zero_has_no_benchmark_series() -> None:
    assert report_html.benchmark_sent(a_history())
    assert not report_html.benchmark_sent(a_history(with_benchmark=False))


# ---------------------------------------------------------------- the page


def test_the_page_is_self_contained_with_header_table_and_four_titled_charts() -> None:
    text = report_html.render_page(a_report(), a_history())
    page = read_page(text)
    assert page.external_references() == []
    assert urls_outside_namespaces(text) == []
    assert not {"script", "link", "img", "iframe", "object"} & set(page.tags)
    assert page.title.startswith("BAL-USD at 2020-03-16")
    header = page.all_text
    for shown in ("231,753,954.53", "92.7016", "AGREES", "Equal to the cent.", "2020-03-16"):
        assert shown in header, shown
    for period in ("1D", "since inception", "-7.30%", "-9.49%", "+2.19%", "9.55%", "4.24%", "-18,246,045.47"):
        assert period in header, period
    assert set(page.figures) == {"growth", "drawdown", "attribution-sector", "attribution-asset-class"}
    assert all(figure.svgs == 1 for figure in page.figures.values())
    assert "Growth since inception" in page.figures["growth"].caption
    assert "Drawdown" in page.figures["drawdown"].caption
    assert page.figures["attribution-sector"].caption == "Attribution by sector, since inception"
    assert page.figures["attribution-asset-class"].caption == "Attribution by asset class, since inception"
    assert len(page.ids) == len(set(page.ids)), "every chart's ids are its own"


def test_the_charts_follow_the_figures() -> None:
    history = a_history()
    page = read_page(report_html.render_page(a_report(), history))
    growth = page.figures["growth"].chart_text
    assert "portfolio" in growth and "benchmark" in growth
    # The lines end on the last day's cumulative returns, labelled.
    assert f"{history[-1].cumulative_return * 100:+.2f}%" in growth
    assert f"{history[-1].benchmark_cumulative_return * 100:+.2f}%" in growth
    worst = min(report_html.drawdowns([p.cumulative_return for p in history]))
    assert f"worst {worst * 100:+.2f}% on 2020-03-03" in page.figures["drawdown"].all_text
    sectors = page.figures["attribution-sector"].chart_text
    for group in SECTORS:
        assert group in sectors
    for effect in ("allocation", "selection", "interaction", "total"):
        assert effect in sectors
    assert "Only In March" not in sectors  # another period's groups
    asset_classes = page.figures["attribution-asset-class"].chart_text
    assert "Government bond" in asset_classes and "Equity" in asset_classes and "Cash" in asset_classes
    assert "GOVERNMENT_BOND" not in asset_classes and "EQUITY" not in asset_classes


def test_another_period_is_charted_when_asked_and_a_missing_one_is_said() -> None:
    page = read_page(
        report_html.render_page(
            a_report(), a_history(), attribution_period=reporting_pb2.PERIOD_MONTH_TO_DATE
        )
    )
    assert page.figures["attribution-sector"].caption == "Attribution by sector, MTD"
    assert "Only In March" in page.figures["attribution-sector"].all_text
    absent = page.figures["attribution-asset-class"]
    assert absent.svgs == 0 and "reporting sent no asset class attribution for MTD" in absent.all_text


def _pct(value: float) -> str:
    return f"{value * 100:+.2f}%"


def test_the_attribution_note_gives_the_explained_the_time_weighted_and_the_unattributed_active_return() -> (
    None
):
    report = a_report()
    page = read_page(report_html.render_page(report, a_history()))
    since = {p.period: p for p in report.performance}[reporting_pb2.PERIOD_SINCE_INCEPTION]
    for dimension in ("sector", "asset_class"):
        attribution = report_html.attribution_of(report, reporting_pb2.PERIOD_SINCE_INCEPTION, dimension)
        assert attribution is not None
        explained, rest = attribution.total_active_return, attribution.not_attributed
        assert explained != pytest.approx(since.active_return), "the test needs the two to differ"
        note = page.figures[f"attribution-{dimension.replace('_', '-')}"].all_text
        # The active return named is the table's and the tile's, so the page shows one active return.
        assert f"active {_pct(since.active_return)}" in page.all_text
        assert (
            f"The effects explain {_pct(explained)} of the {_pct(since.active_return)} active return" in note
        ), note
        assert (
            f"{_pct(rest)} is not attributed: trades and their costs, fees and flows inside the days" in note
        )
        assert (
            f"Allocation {attribution.total_allocation_effect * 10_000:+.1f} bp + selection "
            f"{attribution.total_selection_effect * 10_000:+.1f} bp + interaction "
            f"{attribution.total_interaction_effect * 10_000:+.1f} bp = {_pct(explained)} (Brinson-Fachler)."
        ) in note
        assert "currency" not in note and "cross" not in note


def test_a_report_attributed_by_currency_gets_a_fifth_chart_with_five_effects_per_currency() -> None:
    report = a_report(by_currency=True)
    page = read_page(report_html.render_page(report, a_history()))
    assert list(page.figures) == [
        "growth",
        "drawdown",
        "attribution-sector",
        "attribution-asset-class",
        "attribution-currency",
    ]
    figure = page.figures["attribution-currency"]
    assert figure.caption == "Attribution by currency, since inception" and figure.svgs == 1
    for effect in ("allocation", "selection", "interaction", "currency", "cross", "total"):
        assert effect in figure.chart_text, effect
    for currency, *_ in CURRENCIES:
        assert currency in figure.chart_text, currency
    attribution = report_html.attribution_of(report, reporting_pb2.PERIOD_SINCE_INCEPTION, "currency")
    assert attribution is not None
    assert (
        f"currency {attribution.total_currency_effect * 10_000:+.1f} bp + cross "
        f"{attribution.total_cross_effect * 10_000:+.1f} bp = {_pct(attribution.total_active_return)} "
        "(Karnosky-Singer" in figure.all_text
    ), figure.all_text
    assert f"{_pct(attribution.not_attributed)} is not attributed" in figure.all_text
    # Each currency has five bars: one per effect, each filled with its own colour.
    svg = report_html.attribution_chart(attribution, "c", "by currency")
    for _, _, colour in report_html.CURRENCY_EFFECTS:
        assert svg.count(f"fill: {colour.lower()}") == len(CURRENCIES) + 1, (
            colour
        )  # the bars and the legend's swatch
    assert len(report_html.CURRENCY_EFFECTS) == 5


def test_without_a_currency_dimension_for_the_period_there_is_no_currency_chart_nor_a_note_about_it() -> None:
    for page in (
        read_page(report_html.render_page(a_report(), a_history())),
        read_page(
            report_html.render_page(
                a_report(by_currency=True), a_history(), attribution_period=reporting_pb2.PERIOD_MONTH_TO_DATE
            )
        ),
    ):
        assert "attribution-currency" not in page.figures
        assert "currency attribution" not in page.all_text
        assert "Karnosky" not in page.all_text


def test_prices_name_their_currency_and_the_table_says_what_quantity_times_price_is_not() -> None:
    text = report_html.render_page(a_report(), a_history())
    rows = dict(re.findall(r"<tr><td>([\w-]+)</td>(.*?)</tr>", text))
    assert '<td class="num">9.02 GBP</td>' in rows["UK-MDWY"]  # next to a value in USD
    assert '<td class="num">3,551,213.22 USD</td>' in rows["UK-MDWY"]
    assert '<td class="num">116.289 USD</td>' in rows["UST-20500215"]
    page = read_page(text)
    assert "Bond quantities are face amounts and prices clean, per 100 of face" in page.all_text
    assert "values in another currency are converted to USD at the day end's rate" in page.all_text
    only_home_shares = a_report()
    del only_home_shares.holdings[0]
    only_home_shares.holdings[0].currency = "USD"
    plain = read_page(report_html.render_page(only_home_shares, a_history()))
    assert "per 100 of face" not in plain.all_text and "converted to" not in plain.all_text


def _plot_area_edges(text: str, chart: str) -> tuple[float, float]:
    """The left and right x of a chart's plot area: the rectangle of the path in its `plot-area` group."""
    match = re.search(rf'<g id="{chart}-plot-area">\s*<path d="([^"]+)"', text)
    assert match, f"{chart} has a plot area"
    xs = [float(x) for x in re.findall(r"[ML] ([-\d.]+) [-\d.]+", match.group(1))]
    return min(xs), max(xs)


def _svg_width(text: str, label_start: str) -> str:
    match = re.search(rf'<svg role="img" aria-label="{label_start}[^"]*"[^>]*\bwidth="([^"]+)"', text)
    assert match, label_start
    return match.group(1)


@pytest.mark.parametrize("days", [30, 2])
def test_the_growth_and_drawdown_charts_put_one_day_at_one_x(days: int) -> None:
    # The growth chart's end labels ("+1.23%") need room on the right that the drawdown chart does not.
    text = report_html.render_page(a_report(), a_history(days))
    growth = _plot_area_edges(text, "growth")
    drawdown = _plot_area_edges(text, "drawdown")
    assert growth == pytest.approx(drawdown, abs=0.01)
    assert _svg_width(text, "Growth") == _svg_width(text, "Drawdown")  # so the same x is the same place
    left, right = growth
    assert 30 < left < right - 400, (
        growth
    )  # room for the tick labels, and a plot area that is most of the width


def test_the_ledger_detail_reads_as_a_sentence_and_asset_classes_as_words() -> None:
    page = read_page(report_html.render_page(a_report(), a_history()))
    assert "ledger 231,753,954.53 USD; difference 0.00 USD. Equal to the cent." in page.all_text
    report = a_report()
    report.ledger.detail = "1 journal not from market's stream explains it."
    assert (
        "USD. 1 journal not from market's stream explains it. "
        in read_page(report_html.render_page(report, [])).all_text
    )
    unknown = a_report()
    unknown.attribution[1].groups[0].group = "PRIVATE_EQUITY"  # not an asset class the contract names
    chart = read_page(report_html.render_page(unknown, [])).figures["attribution-asset-class"].chart_text
    assert "PRIVATE_EQUITY" in chart and "Government bond" in chart


def test_without_a_benchmark_series_the_growth_chart_draws_the_portfolio_and_says_why() -> None:
    page = read_page(report_html.render_page(a_report(), a_history(with_benchmark=False)))
    growth = page.figures["growth"]
    assert growth.svgs == 1 and growth.caption == "Growth since inception: portfolio (cumulative return)"
    assert "portfolio" in growth.chart_text and "benchmark" not in growth.chart_text
    assert "Reporting sent no benchmark series" in growth.all_text


def test_a_mandate_without_history_still_gets_a_page() -> None:
    page = read_page(report_html.render_page(a_report(), []))
    assert page.figures["growth"].svgs == 0 and "no NAV history" in page.figures["growth"].all_text
    assert page.figures["attribution-sector"].svgs == 1


def test_no_text_from_the_server_becomes_markup_or_mathematics() -> None:
    text = report_html.render_page(a_report(sector_names=(HOSTILE, "Health Care"), name=HOSTILE), a_history())
    page = read_page(text)
    assert "script" not in page.tags and "<script>" not in text
    assert HOSTILE in page.all_text  # shown as written: in the header and as a bar's label
    assert HOSTILE in page.figures["attribution-sector"].chart_text  # not read as $mathematics$
    assert HOSTILE in page.title


# ---------------------------------------------------------------- writing the file


def test_the_file_is_replaced_whole_with_the_usual_mode_and_no_temporary_left(tmp_path: Path) -> None:
    target = tmp_path / "bal.html"
    target.write_text("old page")
    report_html.write_atomically(target, "new page")
    assert target.read_text() == "new page"
    assert os.listdir(tmp_path) == ["bal.html"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_a_file_that_cannot_be_written_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        report_html.write_atomically(tmp_path / "missing" / "bal.html", "page")
    with pytest.raises(IsADirectoryError):
        report_html.write_atomically(tmp_path, "page")
    assert os.listdir(tmp_path) == []
