"""`opsuite report <mandate> --html FILE`: one self-contained HTML page of a mandate's report.

The page shows, from reporting's GetReport and GetNavHistory: a header (mandate, day end, NAV, NAV
per unit, units, the NAV's parts and the ledger comparison's status), the performance table (1D to
since inception: return, benchmark, active, volatility, tracking error, P&L), four or five charts
(growth of the portfolio against its benchmark since inception, the portfolio's drawdown, and the
attribution of the chosen period's active return by sector, by asset class and, for a mandate in more
than one currency, by currency), the largest holdings and the report's warnings.

Charts: matplotlib, saved as SVG and written inline into the page. Why matplotlib and not plotly:
- the page needs no JavaScript at all: it opens the same in any browser, in a mail client's
  preview and printed, and nothing on it can fail to run;
- it is small: a 30-day page is about 95 kB, charts included, where plotly embeds its 3.5 MB script in every
  file (or loads it from a CDN, which a self-contained page must not);
- the charts are text: with `svg.fonttype = none` every title, label and group name stays a <text>
  element, so the page can be searched, copied from and checked by a test without a browser;
- matplotlib is the long-standing, well-kept plotting library of the scientific Python stack, a
  wheel with no system dependencies, already beside numpy and pandas in this project.
It is imported only here, and this module only when `--html` is given, so the terminal tables stay quick.
The trade-off: the charts are static (no hover read-outs); the tables carry the exact figures.

Every text that comes from the server is escaped: html.escape for the page, and `$` is escaped for
matplotlib (which would read `$...$` as mathematics); matplotlib escapes <, > and & in the SVG.

The growth and drawdown charts share their dates, so their plot areas get the same left and right
edges (the widest margins either needs: the growth chart's end labels, the wider tick labels): one day
has one x on both, and a trough can be read up against the line above it.

Attribution: each chart's note reconciles the effects with the performance table. Attribution is
holdings-based (what the previous day end's holdings earned), so its effects add up to
`total_active_return`, which is not the time-weighted active return the tiles and the table show; the
difference, `not_attributed`, is what happened inside the days (trades and their costs, fees, flows).
The note gives the explained part, the time-weighted active return (their sum, as the contract defines
`not_attributed`) and the rest, so the page never shows two unexplained "active returns".

Drawdown: the wealth index is 1 + cumulative return (GetNavHistory counts the cumulative return from
the value before the first day end, so 1 is where it starts); the drawdown is the index over its
running maximum (the start included) minus 1.

The benchmark line comes from NavPoint.benchmark_cumulative_return as the server sends it. A server
that leaves the benchmark series empty (every benchmark_daily_return and benchmark_cumulative_return
zero) gets no benchmark line and a note under the chart saying so, rather than a flat line at 0 %.
"""

from __future__ import annotations

import datetime as dt
import errno
import html
import io
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter
from matplotlib.typing import RcKeyType

from opsuite.common.v1 import common_pb2
from opsuite.reporting.v1 import reporting_pb2
from services.cli.output import grouped
from services.cli.report import PERIOD_NAMES

TOP_HOLDINGS = 10
PERIOD_LABELS = {
    reporting_pb2.PERIOD_DAY: "1D",
    reporting_pb2.PERIOD_MONTH_TO_DATE: "MTD",
    reporting_pb2.PERIOD_QUARTER_TO_DATE: "QTD",
    reporting_pb2.PERIOD_YEAR_TO_DATE: "YTD",
    reporting_pb2.PERIOD_ONE_YEAR: "1Y",
    reporting_pb2.PERIOD_SINCE_INCEPTION: "SI",
}
PERIODS_BY_LABEL = {label: period for period, label in PERIOD_LABELS.items()}
# (dimension, as the page names it, whether the page says so when reporting sent none): reporting
# attributes by currency only for a mandate in more than one currency, so its absence is no news.
DIMENSIONS = (
    ("sector", "sector", True),
    ("asset_class", "asset class", True),
    ("currency", "currency", False),
)
# Reporting names asset-class groups by the contract's enum (EQUITY, GOVERNMENT_BOND) and cash "Cash";
# the page shows them as words. A name it does not know is shown as sent.
ASSET_CLASS_NAMES = {
    name.removeprefix("ASSET_CLASS_"): name.removeprefix("ASSET_CLASS_").replace("_", " ").capitalize()
    for name, number in common_pb2.AssetClass.items()
    if number != common_pb2.ASSET_CLASS_UNSPECIFIED
}

# Colours: a dark blue for the portfolio, grey for the benchmark, red for losses, and the
# Okabe-Ito palette (distinguishable with colour-blindness) for the effects.
PORTFOLIO = "#1f4e79"
BENCHMARK = "#8c8c8c"
LOSS = "#c0392b"
EFFECTS = (
    ("allocation", "allocation_effect", "#0072B2"),
    ("selection", "selection_effect", "#E69F00"),
    ("interaction", "interaction_effect", "#009E73"),
)
# Karnosky-Singer: the three above on local returns in excess of each currency's cash rate, then the
# currency bet and what compounding local and currency returns adds.
CURRENCY_EFFECTS = (
    *EFFECTS,
    ("currency", "currency_effect", "#D55E00"),
    ("cross", "cross_effect", "#CC79A7"),
)
METHODS = {"currency": "Karnosky-Singer"}  # every other dimension: Brinson-Fachler
BONDS = {common_pb2.ASSET_CLASS_GOVERNMENT_BOND, common_pb2.ASSET_CLASS_CORPORATE_BOND}
STATUS_CLASS = {"AGREES": "ok", "DIFFERS": "bad", "LEDGER_BEHIND": "warn", "LEDGER_UNAVAILABLE": "muted"}

STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text stays text: searchable, and drawn in the page's own font
    "date.converter": "concise",  # date axes read "08 15 22 Mar" with the year once
    "font.family": "sans-serif",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#999999",
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "xtick.color": "#555555",
    "ytick.color": "#555555",
    "legend.frameon": False,
}
NO_METADATA = {"Creator": None, "Date": None, "Format": None, "Type": None}  # no timestamp, no links


# ---------------------------------------------------------------- figures from the messages


def _date(date: common_pb2.Date) -> dt.date:
    return dt.date(date.year, date.month, date.day)


def _decimal(text: str) -> Decimal:
    return Decimal(text or "0")


def _money(money: common_pb2.Money, places: int = 2) -> str:
    if not money.amount.value:
        return "-"
    return f"{grouped(_decimal(money.amount.value), places)} {money.currency}"


def _amount(money: common_pb2.Money, places: int = 2) -> str:
    return grouped(_decimal(money.amount.value), places) if money.amount.value else "-"


def _percent(value: float, signed: bool = True) -> str:
    return f"{value * 100:+.2f}%" if signed else f"{value * 100:.2f}%"


def _bp(value: float) -> str:
    return f"{value * 10_000:+.1f} bp"


def drawdowns(cumulative: Sequence[float]) -> list[float]:
    """Each day's drawdown: (1 + cumulative return) over its running maximum, the start's 1 included, minus 1."""
    peak = 1.0
    out = []
    for cum in cumulative:
        wealth = 1.0 + cum
        peak = max(peak, wealth)
        out.append(wealth / peak - 1.0)
    return out


def benchmark_sent(points: Iterable[reporting_pb2.NavPoint]) -> bool:
    """False when the server left the benchmark series empty (every benchmark figure zero)."""
    return any(p.benchmark_cumulative_return != 0 or p.benchmark_daily_return != 0 for p in points)


def attribution_of(
    report: reporting_pb2.Report, period: reporting_pb2.Period.ValueType, dimension: str
) -> reporting_pb2.Attribution | None:
    for attribution in report.attribution:
        if attribution.period == period and attribution.dimension == dimension:
            return attribution
    return None


# ---------------------------------------------------------------- charts


def _mpl_text(text: str) -> str:
    """Server text as matplotlib shows it literally: `$` would otherwise start mathematics."""
    return text.replace("$", r"\$")


def _svg(figure: Figure, name: str, label: str) -> str:
    """The figure as an <svg> element for the page: no XML prolog, ids prefixed with `name` so that
    several charts on one page never share an id, and an accessible name."""
    style: dict[RcKeyType, Any] = {**STYLE, "svg.hashsalt": name}  # the same ids on every run
    with matplotlib.rc_context(style):
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata=NO_METADATA)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    ids = set(re.findall(r'\bid="([^"]+)"', text))

    def prefixed(match: re.Match[str]) -> str:
        head, ident, tail = match.group(1), match.group(2), match.group(3)
        return f"{head}{name}-{ident}{tail}" if ident in ids else match.group(0)

    text = re.sub(r'(\bid=")([^"]+)(")', prefixed, text)
    text = re.sub(r'(href="#)([^"]+)(")', prefixed, text)
    text = re.sub(r"(url\(#)([^)]+)(\))", prefixed, text)
    return text.replace("<svg ", f'<svg role="img" aria-label="{html.escape(label)}" class="chart-svg" ', 1)


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(STYLE):
        return Figure(figsize=(width, height), layout="constrained")


def _days(points: Sequence[reporting_pb2.NavPoint]) -> np.ndarray[Any, np.dtype[np.datetime64]]:
    return np.array([_date(p.date) for p in points], dtype="datetime64[D]")


def _plot_area(figure: Figure) -> Axes:
    axes = figure.add_subplot()
    axes.patch.set_gid("plot-area")  # named in the SVG, so a test can find the plot area's edges
    return axes


def align_plot_areas(*figures: Figure) -> None:
    """Give every figure's plot area the left and right edges of the narrowest one constrained layout
    makes for any of them, then fix them: the figures are the same width, so one date gets one x on
    each. Each keeps its own top and bottom."""
    with matplotlib.rc_context(STYLE):
        for figure in figures:
            figure.draw_without_rendering()  # runs constrained layout, which places the axes
    boxes = [figure.axes[0].get_position() for figure in figures]
    left = max(box.x0 for box in boxes)
    right = min(box.x1 for box in boxes)
    for figure, box in zip(figures, boxes, strict=True):
        figure.set_layout_engine("none")  # constrained layout would move the axes again when saved
        figure.axes[0].set_position((left, box.y0, right - left, box.height))


def history_charts(
    points: Sequence[reporting_pb2.NavPoint], benchmark_name: str, *, with_benchmark: bool
) -> tuple[str, str]:
    """The growth and the drawdown chart as SVG, their plot areas aligned."""
    growth = growth_figure(points, with_benchmark=with_benchmark)
    drawdown = drawdown_figure(points)
    align_plot_areas(growth, drawdown)
    label = "Growth since inception: portfolio" + (
        f" against its benchmark ({benchmark_name})" if with_benchmark else ""
    )
    return _svg(growth, "growth", label), _svg(
        drawdown, "drawdown", "Drawdown of the portfolio since inception"
    )


def growth_figure(points: Sequence[reporting_pb2.NavPoint], *, with_benchmark: bool) -> Figure:
    dates = _days(points)
    portfolio = [p.cumulative_return for p in points]
    benchmark = [p.benchmark_cumulative_return for p in points]
    lines = [(portfolio, PORTFOLIO)] + ([(benchmark, BENCHMARK)] if with_benchmark else [])
    with matplotlib.rc_context(STYLE):
        figure = _figure(9.5, 3.6)
        axes = _plot_area(figure)
        marker = "o" if len(points) == 1 else None
        axes.axhline(0, color="#999999", linewidth=0.8)
        axes.plot(dates, portfolio, color=PORTFOLIO, linewidth=2, marker=marker, label="portfolio")
        if with_benchmark:
            axes.plot(
                dates,
                benchmark,
                color=BENCHMARK,
                linewidth=1.6,
                linestyle="--",
                marker=marker,
                label="benchmark",
            )
            axes.fill_between(
                dates,
                portfolio,
                benchmark,
                where=[p >= b for p, b in zip(portfolio, benchmark, strict=True)],
                interpolate=True,
                color=PORTFOLIO,
                alpha=0.08,
                linewidth=0,
            )
            axes.fill_between(
                dates,
                portfolio,
                benchmark,
                where=[p < b for p, b in zip(portfolio, benchmark, strict=True)],
                interpolate=True,
                color=LOSS,
                alpha=0.08,
                linewidth=0,
            )
        if points:
            for series, colour in lines:
                axes.annotate(
                    _percent(series[-1]),
                    (dates[-1], series[-1]),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    color=colour,
                    fontsize=9,
                    annotation_clip=False,
                )
        axes.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=1))
        axes.set_ylabel("cumulative return")
        axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2)
        axes.margins(x=0)
        return figure


def drawdown_figure(points: Sequence[reporting_pb2.NavPoint]) -> Figure:
    dates = _days(points)
    drawdown = drawdowns([p.cumulative_return for p in points])
    with matplotlib.rc_context(STYLE):
        figure = _figure(9.5, 2.8)
        axes = _plot_area(figure)
        axes.fill_between(dates, drawdown, 0, color=LOSS, alpha=0.25, linewidth=0, step=None)
        axes.plot(dates, drawdown, color=LOSS, linewidth=1.4, marker="o" if len(points) == 1 else None)
        if drawdown and min(drawdown) < 0:
            worst = min(range(len(drawdown)), key=drawdown.__getitem__)
            left_half = worst < len(drawdown) / 2  # label the trough on the side with room
            axes.annotate(
                f"worst {_percent(drawdown[worst])} on {_date(points[worst].date).isoformat()}",
                (dates[worst], drawdown[worst]),
                xytext=(6 if left_half else -6, -4),
                textcoords="offset points",
                ha="left" if left_half else "right",
                va="top",
                color=LOSS,
                fontsize=9,
            )
        axes.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=1))
        axes.set_ylabel("drawdown")
        low = min(drawdown, default=0.0)
        axes.set_ylim(min(low * 1.3, -0.001), 0.0005)
        axes.margins(x=0)
        return figure


def effects_of(attribution: reporting_pb2.Attribution) -> tuple[tuple[str, str, str], ...]:
    """The effects of the attribution's dimension: (label, field of AttributionGroup, colour)."""
    return CURRENCY_EFFECTS if attribution.dimension == "currency" else EFFECTS


def group_name(attribution: reporting_pb2.Attribution, group: str) -> str:
    if attribution.dimension == "asset_class":
        return ASSET_CLASS_NAMES.get(group, group)
    return group


def attribution_chart(attribution: reporting_pb2.Attribution, name: str, label: str) -> str:
    """Grouped horizontal bars: the effects of each group in basis points (three, five by currency),
    its total as a diamond; groups ordered by total effect, the largest contribution at the top."""
    groups = sorted(attribution.groups, key=lambda g: g.total_effect, reverse=True)
    effects = effects_of(attribution)
    with matplotlib.rc_context(STYLE):
        # Each bar keeps its thickness whatever the number of effects; the group's row grows instead.
        height = 0.26
        figure = _figure(9.5, 1.3 + 0.42 * len(effects) / 3 * max(len(groups), 1))
        axes = figure.add_subplot()
        positions = [i * len(effects) / 3 for i in range(len(groups))]
        for i, (effect_label, field, colour) in enumerate(effects):
            offset = (i - (len(effects) - 1) / 2) * height
            axes.barh(
                [y + offset for y in positions],
                [getattr(g, field) * 10_000 for g in groups],
                height=height,
                color=colour,
                label=effect_label,
            )
        axes.scatter(
            [g.total_effect * 10_000 for g in groups],
            positions,
            marker="D",
            s=22,
            color="#222222",
            zorder=3,
            label="total",
        )
        axes.axvline(0, color="#777777", linewidth=0.8)
        axes.set_yticks(positions, [_mpl_text(group_name(attribution, g.group)) for g in groups])
        axes.invert_yaxis()
        axes.grid(axis="y", visible=False)
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:+g}"))
        axes.set_xlabel("effect on the active return (basis points)")
        # The legend reads in the bars' order, top to bottom, the total last (matplotlib would put it first).
        handles, labels = axes.get_legend_handles_labels()
        order = [labels.index(effect_label) for effect_label, _, _ in effects] + [labels.index("total")]
        axes.legend(
            [handles[i] for i in order],
            [labels[i] for i in order],
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncols=len(order),
        )
        return _svg(figure, name, label)


# ---------------------------------------------------------------- the page


@dataclass(frozen=True)
class _Tile:
    label: str
    value: str
    note: str = ""
    css: str = ""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _sentence(text: str) -> str:
    """Service text, written as a phrase ("equal to the cent"), as a sentence of its own on the page."""
    if not text:
        return ""
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def _signed_class(value: float) -> str:
    return "pos" if value > 0 else "neg" if value < 0 else ""


def _tiles(report: reporting_pb2.Report) -> str:
    nav = report.nav
    ledger = report.ledger
    status = ledger.status or "UNKNOWN"
    ledger_note = ledger.detail
    if ledger.ledger_nav.amount.value:
        ledger_note = (
            f"ledger {_money(ledger.ledger_nav)}; difference {_money(ledger.difference)}. "
            f"{_sentence(ledger.detail)}"
        ).rstrip()
    tiles = [
        _Tile(f"NAV ({nav.nav.currency})", _amount(nav.nav), f"at {_date(report.as_of).isoformat()}"),
        _Tile(
            f"NAV per unit ({nav.nav_per_unit.currency})",
            _amount(nav.nav_per_unit, 4),
            f"{grouped(_decimal(nav.units_outstanding.value), 2)} units",
        ),
        _Tile("ledger comparison", status, ledger_note, STATUS_CLASS.get(status, "muted")),
    ]
    since = {p.period: p for p in report.performance}.get(reporting_pb2.PERIOD_SINCE_INCEPTION)
    if since is not None and since.has_return:
        tiles.append(
            _Tile(
                "return since inception",
                _percent(since.portfolio_return),
                f"benchmark {_percent(since.benchmark_return)}, active {_percent(since.active_return)}",
                _signed_class(since.portfolio_return),
            )
        )
    cells = "".join(
        f'<div class="tile {_e(t.css)}"><div class="label">{_e(t.label)}</div>'
        f'<div class="value">{_e(t.value)}</div><div class="note">{_e(t.note)}</div></div>'
        for t in tiles
    )
    return f'<section class="tiles">{cells}</section>'


def _breakdown(report: reporting_pb2.Report) -> str:
    nav = report.nav
    rows = (
        ("securities", nav.securities_value),
        ("cash", nav.cash_value),
        ("accrued income", nav.accrued_income),
        ("liabilities", nav.liabilities),
        ("NAV", nav.nav),
    )
    cells = "".join(
        f'<tr{" class=total" if label == "NAV" else ""}><th>{_e(label)}</th><td class="num">{_e(_amount(m))}</td></tr>'
        for label, m in rows
    )
    return (
        f'<table class="breakdown"><caption>NAV ({_e(report.base_currency)})</caption>'
        f"<tbody>{cells}</tbody></table>"
    )


def _performance(report: reporting_pb2.Report) -> str:
    head = "".join(
        f"<th{' class=num' if i > 1 else ''}>{_e(h)}</th>"
        for i, h in enumerate(
            (
                "period",
                "from",
                "return",
                "benchmark",
                "active",
                "volatility",
                "tracking error",
                f"P&L ({report.base_currency})",
            )
        )
    )
    rows = []
    for p in report.performance:
        name = PERIOD_NAMES.get(p.period, str(p.period))
        if p.has_return:
            returns = "".join(
                f'<td class="num {_signed_class(v)}">{_e(_percent(v))}</td>'
                for v in (p.portfolio_return, p.benchmark_return, p.active_return)
            )
        else:
            returns = '<td class="num">-</td>' * 3
        risk = "".join(
            f'<td class="num">{_e(_percent(v, signed=False)) if v else "-"}</td>'
            for v in (p.volatility, p.tracking_error)
        )
        pnl = _decimal(p.pnl.amount.value)
        rows.append(
            f"<tr><th>{_e(name)}</th><td>{_e(_date(p.start).isoformat())}</td>{returns}{risk}"
            f'<td class="num {_signed_class(float(pnl))}">{_e(_amount(p.pnl))}</td></tr>'
        )
    return (
        '<table class="performance"><caption>Performance (time-weighted; volatility and tracking error '
        f"annualised)</caption><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _price(holding: reporting_pb2.Holding) -> str:
    """The price in its own currency, named always (as the value's is): next to a value in the base
    currency, a bare 9.02 of a GBP stock reads as euros."""
    if not holding.price.value:
        return "-"
    return f"{holding.price.value} {holding.currency}".rstrip()


def _holdings(report: reporting_pb2.Report) -> str:
    holdings = sorted(report.holdings, key=lambda h: -h.weight)[:TOP_HOLDINGS]
    head = "".join(
        f"<th{' class=num' if i > 2 else ''}>{_e(h)}</th>"
        for i, h in enumerate(("instrument", "name", "sector", "quantity", "price", "value", "weight"))
    )
    rows = "".join(
        f"<tr><td>{_e(h.instrument_id)}{' <span class=flag title=quarantined>Q</span>' if h.price_quarantined else ''}</td>"
        f"<td>{_e(h.name)}</td><td>{_e(h.sector)}</td>"
        f'<td class="num">{_e(grouped(_decimal(h.quantity.value)))}</td>'
        f'<td class="num">{_e(_price(h))}</td>'
        f'<td class="num">{_e(_money(h.base_market_value))}</td>'
        f'<td class="num">{_e(_percent(h.weight, signed=False))}</td></tr>'
        for h in holdings
    )
    # Quantity × price is the value only for a share in the base currency: say what else is at play,
    # for the rows shown.
    notes = []
    if any(h.asset_class in BONDS for h in holdings):
        notes.append("bond quantities are face amounts and prices clean, per 100 of face")
    if any(h.currency and h.currency != report.base_currency for h in holdings):
        notes.append(
            f"values in another currency are converted to {report.base_currency} at the day end's rate"
        )
    note = f'<p class="table-note">{_e(_sentence("; ".join(notes)))}</p>' if notes else ""
    return (
        f'<table class="holdings"><caption>Largest {len(holdings)} of {len(report.holdings)} holdings</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{note}"
    )


def _chart(ident: str, title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{_e(note)}</p>' if note else ""
    return (
        f'<figure class="chart" id="{_e(ident)}"><figcaption>{_e(title)}</figcaption>'
        f"{body}{note_html}</figure>"
    )


def attribution_note(attribution: reporting_pb2.Attribution) -> str:
    """How the effects add up, and how what they explain stands to the time-weighted active return."""
    explained = attribution.total_active_return
    active = explained + attribution.not_attributed  # the contract's definition of not_attributed
    effects = " + ".join(
        f"{effect_label} {_bp(getattr(attribution, f'total_{field}'))}"
        for effect_label, field, _ in effects_of(attribution)
    )
    method = METHODS.get(attribution.dimension, "Brinson-Fachler")
    local = (
        ", the first three on local returns in excess of each currency's cash rate"
        if attribution.dimension == "currency"
        else ""
    )
    return (
        f"The effects explain {_percent(explained)} of the {_percent(active)} active return (time-weighted, "
        f"as in the performance table); {_percent(attribution.not_attributed)} is not attributed: trades "
        "and their costs, fees and flows inside the days, which holdings-based attribution does not see. "
        f"{effects[:1].upper()}{effects[1:]} = {_percent(explained)} ({method}{local})."
    )


def _attribution_section(report: reporting_pb2.Report, period: reporting_pb2.Period.ValueType) -> str:
    period_name = PERIOD_NAMES.get(period, str(period))
    figures = []
    for dimension, dimension_name, said_when_missing in DIMENSIONS:
        ident = f"attribution-{dimension.replace('_', '-')}"
        title = f"Attribution by {dimension_name}, {period_name}"
        attribution = attribution_of(report, period, dimension)
        if attribution is None or not attribution.groups:
            if said_when_missing:
                figures.append(
                    _chart(
                        ident, title, "", f"reporting sent no {dimension_name} attribution for {period_name}."
                    )
                )
            continue
        chart = attribution_chart(attribution, ident, title)
        figures.append(_chart(ident, title, chart, attribution_note(attribution)))
    return "".join(figures)


def _warnings(report: reporting_pb2.Report) -> str:
    items = [_e(w) for w in report.warnings]
    items += [
        f"{_e(q.instrument_id)}: price {_e(q.rejected_price.value)} quarantined ({_e(q.dq_issue_id)}); "
        f"{_e(q.used_price.value)} of {_e(_date(q.used_price_date).isoformat())} used"
        for q in report.quarantined_prices
    ]
    if not items:
        return ""
    return (
        '<section class="warnings"><h2>Warnings</h2><ul>'
        + "".join(f"<li>{i}</li>" for i in items)
        + "</ul></section>"
    )


def render_page(
    report: reporting_pb2.Report,
    history: Sequence[reporting_pb2.NavPoint],
    *,
    attribution_period: reporting_pb2.Period.ValueType = reporting_pb2.PERIOD_SINCE_INCEPTION,
) -> str:
    """The whole page: every style, chart and figure inline, no script and no outside link."""
    as_of = _date(report.as_of).isoformat()
    with_benchmark = benchmark_sent(history)
    growth_note = (
        ""
        if with_benchmark
        else (
            "Reporting sent no benchmark series with the NAV history (benchmark_cumulative_return is empty), "
            "so only the portfolio is drawn; the performance table gives the benchmark's return per period."
        )
    )
    if history:
        growth_svg, drawdown_svg = history_charts(history, report.benchmark, with_benchmark=with_benchmark)
        growth = _chart(
            "growth",
            "Growth since inception: portfolio"
            + (" against benchmark" if with_benchmark else "")
            + " (cumulative return)",
            growth_svg,
            growth_note,
        )
        drawdown = _chart("drawdown", "Drawdown since inception (below the previous peak)", drawdown_svg)
    else:
        growth = _chart("growth", "Growth since inception", "", "reporting sent no NAV history.")
        drawdown = _chart("drawdown", "Drawdown since inception", "", "reporting sent no NAV history.")
    title = f"{report.mandate_id} at {as_of}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}: {_e(report.name)}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>{_e(report.mandate_id)} <span class="name">{_e(report.name)}</span></h1>
<p class="sub">Day end {_e(as_of)} · base currency {_e(report.base_currency)} · benchmark {_e(report.benchmark or "none")}</p>
</header>
<main>
{_tiles(report)}
{_warnings(report)}
<section class="charts">{growth}{drawdown}</section>
<section class="figures">{_performance(report)}{_breakdown(report)}</section>
<section class="charts">{_attribution_section(report, attribution_period)}</section>
<section>{_holdings(report)}</section>
</main>
<footer>opsuite report {_e(report.mandate_id)} · reporting's GetReport and GetNavHistory at market seq {report.as_of_seq} · {len(history)} day ends</footer>
</body>
</html>
"""


CSS = """
:root { --ink: #1b1f24; --muted: #5f6b76; --line: #e3e6ea; --pos: #1e7b3c; --neg: #b3261e; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: #f6f7f9; }
header { background: #1f4e79; color: #fff; padding: 18px 32px; }
header h1 { margin: 0; font-size: 24px; font-weight: 650; }
header .name { font-weight: 400; opacity: .85; margin-left: 8px; }
header .sub { margin: 4px 0 0; opacity: .85; }
main { max-width: 1120px; margin: 0 auto; padding: 20px 24px 32px; }
section { margin: 0 0 22px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); gap: 12px; }
.tile { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.tile .value { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; margin: 2px 0; }
.tile .note { color: var(--muted); font-size: 12px; }
.tile.ok { border-left: 5px solid var(--pos); } .tile.ok .value { color: var(--pos); }
.tile.bad { border-left: 5px solid var(--neg); } .tile.bad .value { color: var(--neg); }
.tile.warn { border-left: 5px solid #b7791f; } .tile.warn .value { color: #b7791f; }
.tile.muted { border-left: 5px solid #9aa5b1; }
.tile.pos .value { color: var(--pos); } .tile.neg .value { color: var(--neg); }
.charts { display: grid; gap: 16px; }
figure.chart { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
figure.chart figcaption { font-weight: 650; font-size: 15px; margin-bottom: 6px; }
figure.chart svg { display: block; width: 100%; height: auto; }
figure.chart svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif !important; }
figure.chart .note, .warnings li, .table-note { color: var(--muted); font-size: 13px; margin: 6px 0 0; }
.figures { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.figures table.performance { flex: 1 1 640px; width: auto; }
.figures table.breakdown { flex: 0 1 300px; width: auto; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); border-radius: 8px;
  font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 650; font-size: 15px; padding: 0 0 6px; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
thead th { color: var(--muted); font-weight: 600; font-size: 12px; }
tbody th { font-weight: 600; }
.num { text-align: right; }
.pos { color: var(--pos); } .neg { color: var(--neg); }
tr.total th, tr.total td { font-weight: 700; border-top: 2px solid var(--ink); }
.holdings td:nth-child(2) { white-space: normal; }
.flag { background: #b7791f; color: #fff; border-radius: 3px; font-size: 10px; padding: 0 4px; }
.warnings { background: #fff8e6; border: 1px solid #f0d58c; border-radius: 8px; padding: 8px 16px; }
.warnings h2 { font-size: 14px; margin: 4px 0; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 0 0 24px; }
@media print { body { background: #fff; } header { color: #000; background: none; border-bottom: 2px solid #000; }
  figure.chart, table, .tile { break-inside: avoid; } }
"""


def write_atomically(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`: a reader sees
    the old page or the new one, never half of one. The file gets the usual mode (0666 less umask)."""
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
    directory = target.parent
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as sink:
            sink.write(text)
            sink.flush()
            os.fsync(sink.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
