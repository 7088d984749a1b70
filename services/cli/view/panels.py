"""The live view's panels: pure functions from view_model rows to rich tables.

Each panel takes how many rows it may show (view_layout.py decides, from the console's size)
and says in its title how many it left out, so a small terminal shows less of every panel
rather than no panel at all. `compact` drops borders and the widest columns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from opsuite.market.v1 import market_pb2
from services.cli.output import grouped, numeric_column
from services.cli.view.model import (
    CashRow,
    DqBoard,
    FillRow,
    NavBoard,
    NavRow,
    PriceRow,
    ReconSummary,
    ServiceRow,
    date_text,
    drawn_from,
)


def _table(title: str, compact: bool) -> Table:
    if compact:
        # No borders and one space between columns: 80 columns hold every panel's figures.
        return Table(
            title=title,
            title_justify="left",
            title_style="bold",
            box=None,
            pad_edge=False,
            padding=(0, 1, 0, 0),
            header_style="dim",
            expand=True,
        )
    return Table(title=title, title_justify="left", title_style="bold", box=box.ROUNDED, expand=True)


def _title(name: str, shown: int, total: int, noun: str) -> str:
    if shown >= total:
        return name
    return f"{name} ({shown} of {total} {noun})" if noun else f"{name} ({shown} of {total})"


def _amount(value: Decimal) -> str:
    return f"[red]{grouped(value)}[/]" if value < 0 else grouped(value)


def header(clock: Any | None, events_per_second: float, done: bool, compact: bool) -> RenderableType:
    if clock is None:
        return Text("opsuite: waiting for market's clock ...")
    is_max = clock.mode == market_pb2.CLOCK_MODE_MAX
    mode = "max" if is_max else f"{clock.business_days_per_second:g} days/s"
    if done:
        mode += ", done"
    elif not clock.running:
        mode += ", stopped"
    parts = [
        f"[bold]{date_text(clock.sim_date)}[/]",
        f"regime [bold]{clock.regime or '-'}[/]",
        f"clock {mode}",
        f"seq {grouped(clock.head_seq)}",
        f"{grouped(round(events_per_second))} events/s",
    ]
    if not compact:
        parts.append(f"data {clock.data_source}")
    lines = [("  " if compact else "   ").join(parts)]
    if clock.HasField("sim_date"):
        lines.append(day_origin(clock, compact))
    return Text.from_markup("\n".join(lines))


def day_origin(clock: Any, compact: bool) -> str:
    """The header's second line: whether the day is real data or synthetic, and for a synthetic day
    the real block it was drawn from. At most 47 columns compact, where the boxed layout adds the
    day replayed and the end of the real data."""
    real_end = date_text(clock.real_data_end) if clock.HasField("real_data_end") else ""
    block = drawn_from(clock)
    if block is None:
        return f"real data (to {real_end})" if real_end and not compact else "real data"
    text = f"[bold yellow]synthetic[/] (drawn from {block[0]} .. {block[1]}"
    if compact:
        return text + ")"
    text += f", replaying {date_text(clock.synthetic.replayed)})"
    return text + (f"   real data ended {real_end}" if real_end else "")


def _title_only(title: str) -> Text:
    """A panel the layout took every row from, as its title alone: one line, still on screen."""
    return Text(title, style="bold")


def prices_panel(rows: Sequence[PriceRow], limit: int, compact: bool) -> RenderableType:
    if limit <= 0 and rows:
        return _title_only(f"last prices (0 of {len(rows)} watched)")
    table = _table(_title("last prices", min(limit, len(rows)), len(rows), "watched"), compact)
    table.add_column("instrument", no_wrap=True, overflow="ellipsis")
    numeric_column(table, "price")
    table.add_column("ccy", no_wrap=True)
    for row in rows[:limit]:
        table.add_row(row.symbol, grouped(row.price), row.currency)
    return table


def fills_panel(rows: Sequence[FillRow], count: int, limit: int, compact: bool) -> RenderableType:
    if limit <= 0 and rows:
        return _title_only(f"last fills ({grouped(count)} seen, none shown)")
    table = _table(f"last fills ({grouped(count)} seen)", compact)
    if not compact:
        table.add_column("date", no_wrap=True)
        table.add_column("mandate", no_wrap=True)
    table.add_column("side", no_wrap=True)
    numeric_column(table, "qty")
    # Bond names are long ("PTRX 3 5/8 02/15/30"): the name is cut before a figure is.
    table.add_column("instrument", no_wrap=True, overflow="ellipsis", max_width=14 if compact else None)
    numeric_column(table, "price")
    for row in rows[:limit]:
        cells = [row.side, grouped(row.quantity), row.symbol, grouped(row.price)]
        table.add_row(*([row.trade_date, row.mandate_id, *cells] if not compact else cells))
    return table


def rows_within(rows: Sequence[CashRow], limit: int) -> list[CashRow]:
    """At most `limit` rows, each mandate's first (its base currency) before any other currency's: a
    small screen keeps every mandate's base cash and drops the foreign lines first."""
    if len(rows) <= limit:
        return list(rows)
    firsts: dict[str, int] = {}
    for index, row in enumerate(rows):
        firsts.setdefault(row.mandate_id, index)
    rest = [index for index in range(len(rows)) if index not in firsts.values()]
    kept = sorted([*firsts.values(), *rest][: max(limit, 0)])
    return [rows[index] for index in kept]


def ledger_panel(rows: Sequence[CashRow], limit: int, compact: bool) -> Table:
    mandates = len({row.mandate_id for row in rows})
    shown = rows_within(rows, limit)
    title = _title("ledger: cash and suspense", len({r.mandate_id for r in shown}), mandates, "mandates")
    if len({r.mandate_id for r in shown}) == mandates and len(shown) < len(rows):
        hidden = len(rows) - len(shown)
        title += f" ({hidden} other-currency line{'s' if hidden > 1 else ''} hidden)"
    table = _table(title, compact)
    table.add_column("mandate", no_wrap=True)
    numeric_column(table, "cash")
    table.add_column("ccy", no_wrap=True)
    numeric_column(table, "suspense")
    numeric_column(table, "journals")
    if not compact:
        numeric_column(table, "postings")
    table.add_column("trial balance", no_wrap=True)
    previous = ""
    for row in shown:
        suspense = grouped(row.suspense)
        cells = [
            row.mandate_id if row.mandate_id != previous else "",
            _amount(row.cash),
            row.currency,
            f"[yellow]{suspense}[/]" if row.suspense else suspense,
            grouped(row.journals),
        ]
        if not compact:
            cells.append(grouped(row.postings))
        cells.append("[green]balanced[/]" if row.balanced else "[red]OUT OF BALANCE[/]")
        table.add_row(*cells)
        previous = row.mandate_id
    return table


def _count(value: int) -> str:
    return grouped(value) if value else "[dim]0[/]"


def recon_panel(summary: ReconSummary, limit: int, compact: bool) -> Table:
    title = (
        f"recon as of {summary.as_of}: {grouped(summary.open)} open, "
        f"{grouped(summary.escalated)} escalated, {grouped(summary.timing_items)} timing"
    )
    shown = summary.kinds[: max(limit, 1)]
    if len(shown) < len(summary.kinds):
        title += f" ({len(shown)} of {len(summary.kinds)} kinds)"
    table = _table(title, compact)
    table.add_column("open breaks by kind", no_wrap=True, overflow="ellipsis")
    for label in summary.buckets:
        numeric_column(table, label)
    numeric_column(table, "open")
    numeric_column(table, "escalated")
    table.add_column("mandates", overflow="ellipsis", no_wrap=True, ratio=1)
    for row in shown:
        table.add_row(
            row.kind,
            *(_count(row.by_bucket[label]) for label in summary.buckets),
            grouped(row.open),
            f"[red]{grouped(row.escalated)}[/]" if row.escalated else _count(0),
            ", ".join(row.mandates),
        )
    if not summary.kinds:
        table.add_row("[green]none open[/]", *("" for _ in summary.buckets), "", "", "")
    return table


def escalations_panel(summary: ReconSummary, limit: int, compact: bool) -> Table:
    table = _table(f"escalated, oldest first ({grouped(summary.escalated)})", compact)
    table.add_column("break", no_wrap=True)
    table.add_column("mandate", no_wrap=True)
    table.add_column("kind", no_wrap=True, overflow="ellipsis")
    numeric_column(table, "age")
    numeric_column(table, "difference")
    table.add_column("why", overflow="ellipsis", no_wrap=True, ratio=1)
    for row in summary.escalations[:limit]:
        table.add_row(
            row.break_id,
            row.mandate_id,
            row.kind,
            grouped(row.age_business_days),
            f"{_amount(row.base_amount)} {row.base_currency}",
            row.reason,
        )
    return table


REPORTING_TITLE = "reporting: NAV and returns"
_CENT = Decimal("0.01")


def percent_text(fraction: float | None) -> str:
    """A return (a fraction) as a signed percentage to 2 decimals: 0.012345 -> "+1.23%"; "-" for none.

    One that rounds to zero is "0.00%": "-0.00%" would claim a direction the figure does not show.
    """
    if fraction is None or not math.isfinite(fraction):
        return "-"
    # Through the shortest decimal of the double (repr), so rounding is decimal half-even, not binary.
    percent = (Decimal(repr(fraction)) * 100).quantize(_CENT, rounding=ROUND_HALF_EVEN)
    return f"{percent:+.2f}%" if percent else "0.00%"


def _signed(fraction: float | None) -> str:
    text = percent_text(fraction)
    return f"[red]{text}[/]" if text.startswith("-") and text != "-" else text


def nav_cells(row: NavRow) -> list[str]:
    """A mandate's row: id, NAV date, NAV, currency, NAV per unit, day return, YTD return."""
    return [
        row.mandate_id,
        row.nav_date,
        "-" if row.nav is None else _amount(row.nav),
        row.currency,
        "-" if row.nav_per_unit is None else grouped(row.nav_per_unit),
        _signed(row.day_return),
        _signed(row.ytd_return),
    ]


def _nav_line(board: NavBoard) -> Text | None:
    """The panel as one line when reporting has no rows to show: not built, not answering, no mandates."""
    if board.absent:
        # Text, not markup: an address such as [::1]:50053 would read as a markup tag.
        return Text.assemble(("reporting: ", "bold"), (board.absent, "yellow"))
    if not board.rows:
        return Text.assemble(("reporting: ", "bold"), "no mandates yet")
    return None


def _valued_to(rows: Sequence[NavRow]) -> str:
    """How many mandates and their latest NAV date: "5 mandates to 2020-02-27" (or "none valued yet")."""
    dates = [row.nav_date for row in rows if row.nav_date != "-"]
    return f"{len(rows)} mandates to {max(dates)}" if dates else f"{len(rows)} mandates, none valued yet"


def reporting_panel(board: NavBoard, limit: int, compact: bool) -> RenderableType:
    """Each mandate's latest NAV and returns; one line when there are none, or no room for any."""
    line = _nav_line(board)
    if line is not None:
        return line
    if limit <= 0:  # the layout took every row: say what there is, in one line
        return Text.assemble((REPORTING_TITLE, "bold"), f" of {_valued_to(board.rows)} (no room for rows)")
    table = _table(_title(REPORTING_TITLE, min(limit, len(board.rows)), len(board.rows), "mandates"), compact)
    table.add_column("mandate", no_wrap=True)
    table.add_column("NAV date", no_wrap=True)
    numeric_column(table, "NAV")
    table.add_column("ccy", no_wrap=True)
    numeric_column(table, "NAV/unit")
    numeric_column(table, "day")
    numeric_column(table, "YTD")
    for row in board.rows[:limit]:
        table.add_row(*nav_cells(row))
    return table


_HEALTH_STYLES = {"ok": "green", "degraded": "yellow", "critical": "red"}


# Compact, the severities are abbreviated so the one line fits 80 columns with its counts.
_SHORT_SEVERITIES = {"critical": "crit", "warning": "warn", "info": "info"}


def _dq_summary(board: DqBoard, compact: bool, shown: int | None = None) -> str:
    """The panel's title, or its one line: as of when, dq's health, open issues by severity and how
    many values are held back (`shown` of them, when the panel has room for fewer rows)."""
    style = _HEALTH_STYLES.get(board.health, "yellow")
    severities = " ".join(
        f"{_count(count)} {_SHORT_SEVERITIES.get(name, name) if compact else name}"
        for name, count in board.open_by_severity
    )
    held = f"{grouped(board.held_back)} held back"
    if shown is not None and shown < board.held_back:
        held = f"{shown} of {held}"
    elif not board.held_back:
        held = "[green]nothing held back[/]"
    as_of = board.as_of if compact else f"as of {board.as_of}"
    return f"dq {as_of}: [{style}]{board.health or '-'}[/], open {severities}, {held}"


def dq_panel(board: DqBoard, limit: int, compact: bool) -> RenderableType:
    """dq's open issues by severity, then each value held back beside the last good value used instead;
    one line when nothing is held back, or there is no room for rows."""
    if board.absent:
        # Text, not markup: an address such as [::1]:50054 would read as a markup tag.
        return Text.assemble(("dq: ", "bold"), (board.absent, "yellow"))
    if not board.rows:
        return Text.from_markup(f"[bold]{_dq_summary(board, compact)}[/]")
    if limit <= 0:  # the layout took every row: say what there is, in one line
        room = " (no room)" if compact else " (no room for rows)"
        return Text.from_markup(f"[bold]{_dq_summary(board, compact)}[/]{room}")
    shown = board.rows[:limit]
    table = _table(_dq_summary(board, compact, len(shown)), compact)
    table.add_column("held back", no_wrap=True, overflow="ellipsis")
    table.add_column("vendor", no_wrap=True)
    numeric_column(table, "rejected")
    if not compact:
        table.add_column("of", no_wrap=True)
    numeric_column(table, "last good")
    table.add_column("good on" if not compact else "of", no_wrap=True)
    table.add_column("issue", no_wrap=True)
    for row in shown:
        cells = [row.subject, row.vendor, f"[red]{grouped(row.rejected)}[/]"]
        if not compact:
            cells.append(row.rejected_date)
        last_good = "none yet" if row.last_good is None else grouped(row.last_good)
        cells += [last_good, row.last_good_date, row.issue_id]
        table.add_row(*cells)
    return table


_GOOD = ("running", "serving")
_BAD = ("failed", "exited", "unreachable", "gave up")


def _state(state: str) -> str:
    if state.startswith(_GOOD):
        return f"[green]{state}[/]"
    if state.startswith(_BAD):
        return f"[red]{state}[/]"
    return f"[yellow]{state}[/]"


def services_panel(
    rows: Sequence[ServiceRow], not_built: Sequence[str], supervised: bool, limit: int, compact: bool
) -> Table:
    title = _title("services", min(limit, len(rows)), len(rows), "")
    if not_built:
        title += f" ({', '.join(not_built)}: not built in this release)"
    table = _table(title, compact)
    table.add_column("service", no_wrap=True)
    table.add_column("state", no_wrap=True, overflow="ellipsis")
    if supervised:
        numeric_column(table, "restarts")
        numeric_column(table, "pid")
    numeric_column(table, "lag")
    table.add_column("sim date", no_wrap=True)
    numeric_column(table, "uptime")
    if not compact:
        table.add_column("address", no_wrap=True)
    for row in rows[:limit]:
        cells = [row.name, _state(row.state)]
        if supervised:
            cells += [grouped(row.restarts or 0), "-" if row.pid is None else str(row.pid)]
        cells += ["-" if row.lag is None else grouped(row.lag), row.simulated_date, row.uptime]
        if not compact:
            cells.append(row.address)
        table.add_row(*cells)
    return table
