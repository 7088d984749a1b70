"""opsuite perf: the reporting calculators on a user's own files, so operations can check our numbers
against their systems (services/reporting/domain). A bad file gets one line naming the row and the
problem, never a traceback."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rich.table import Table

from services.cli.output import print_tables

RETURNS_COLUMNS = ("date", "kind", "amount")
ATTRIBUTION_COLUMNS = (
    "period",
    "segment",
    "portfolio_weight",
    "portfolio_return",
    "benchmark_weight",
    "benchmark_return",
)


class BadFile(ValueError):
    """A problem with the input file, in one line naming where it is."""


def perf(args: argparse.Namespace) -> int:
    try:
        if args.perf_command == "returns":
            return _returns(args)
        if args.perf_command == "attribution":
            return _attribution(args)
    except BadFile as error:
        print(f"opsuite perf {args.perf_command}: {error}", file=sys.stderr)
        return 2
    raise AssertionError(f"unknown perf command {args.perf_command!r}")


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV file with exactly `columns` as its header."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as error:
        raise BadFile(f"cannot read {path}: {error.strerror or error}") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = [name.strip().lower() for name in next(reader)]
        except StopIteration:
            raise BadFile(f"{path} is empty: its first line must be {','.join(columns)}") from None
        except (csv.Error, UnicodeDecodeError) as error:
            raise BadFile(f"{path} line 1: not CSV text ({error})") from None
        if tuple(header) != columns:
            raise BadFile(f"{path} line 1: the header must be {','.join(columns)}, not {','.join(header)}")
        try:
            for cells in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) != len(columns):
                    raise BadFile(
                        f"{path} line {line}: {len(cells)} values where {len(columns)} are expected"
                    )
                yield line, {name: cell.strip() for name, cell in zip(columns, cells, strict=True)}
        except (csv.Error, UnicodeDecodeError) as error:
            raise BadFile(f"{path} line {reader.line_num}: not CSV text ({error})") from None


def _date(path: Path, line: int, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadFile(f"{path} line {line}: date {text!r} is not a date like 2024-03-31") from None


def _amount(path: Path, line: int, text: str, column: str = "amount") -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise BadFile(f"{path} line {line}: {column} {text!r} is not a number")
    return value


def _returns(args: argparse.Namespace) -> int:
    from services.reporting.domain.returns import Flow, ReturnsError, Valuation, period_returns

    path = Path(args.input)
    valuations: list[Valuation] = []
    flows: list[Flow] = []
    for line, row in _rows(path, RETURNS_COLUMNS):
        date, amount = _date(path, line, row["date"]), _amount(path, line, row["amount"])
        kind = row["kind"].lower()
        if kind == "value":
            if valuations and date <= valuations[-1].date:
                raise BadFile(
                    f"{path} line {line}: value rows must have rising dates ({date} after {valuations[-1].date})"
                )
            valuations.append(Valuation(date, amount))
        elif kind == "flow":
            flows.append(Flow(date, amount))
        else:
            raise BadFile(f"{path} line {line}: kind {row['kind']!r} is neither value nor flow")
    try:
        result = period_returns(valuations, flows)
    except ReturnsError as error:
        raise BadFile(f"{path}: {error}") from None
    if args.json:
        json.dump(
            {
                "time_weighted": result.time_weighted,
                "modified_dietz": result.modified_dietz,
                "money_weighted": result.money_weighted,
            },
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
        return 0
    table = Table(title=f"returns of {path.name}, {valuations[0].date} to {valuations[-1].date}")
    table.add_column("measure")
    table.add_column("return", justify="right")
    table.add_column("how")
    table.add_row("time-weighted", _percent(result.time_weighted), "sub-periods between valuations, linked")
    table.add_row(
        "Modified Dietz", _percent(result.modified_dietz), "flows weighted by the time they were in"
    )
    table.add_row(
        "money-weighted",
        _percent(result.money_weighted) if result.money_weighted is not None else "none",
        "XIRR, an annual rate (actual/365)",
    )
    print_tables(table)
    return 0


def _percent(value: float) -> str:
    return f"{value * 100:.4f} %"


def _attribution(args: argparse.Namespace) -> int:
    from services.reporting.domain.attribution import (
        AttributionError,
        Interaction,
        Linking,
        Method,
        PeriodAttribution,
        Segment,
        as_json,
        attribute_period,
        link,
    )

    path = Path(args.input)
    periods: dict[str, list[Segment]] = {}  # in file order
    first_line: dict[str, int] = {}
    for line, row in _rows(path, ATTRIBUTION_COLUMNS):
        period = row["period"]
        if not period or not row["segment"]:
            raise BadFile(f"{path} line {line}: the period and the segment must be named")
        figures = [_amount(path, line, row[column], column) for column in ATTRIBUTION_COLUMNS[2:]]
        periods.setdefault(period, []).append(Segment(row["segment"], *figures))
        first_line.setdefault(period, line)
    if not periods:
        raise BadFile(f"{path}: no rows after the header")
    attributed: list[PeriodAttribution] = []
    for period, segments in periods.items():
        try:
            attributed.append(
                attribute_period(period, segments, Method(args.method), Interaction(args.interaction))
            )
        except AttributionError as error:
            raise BadFile(f"{path} (period starting line {first_line[period]}): {error}") from None
    try:
        linked = link(attributed, Linking(args.linking))
    except AttributionError as error:
        raise BadFile(f"{path}: {error}") from None
    if args.json:
        json.dump(as_json(attributed, linked), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    title = (
        f"attribution of {path.name}: {len(attributed)} period(s), "
        f"{Method(args.method).name.replace('_', '-').title()}, linked by {args.linking}"
    )
    table = Table(title=title, caption="basis points; effects add up to the active return")
    for heading in ("segment", "allocation", "selection", "interaction", "total"):
        table.add_column(heading, justify="left" if heading == "segment" else "right")
    for effects in linked.segments:
        table.add_row(
            effects.segment,
            *(_bp(v) for v in (effects.allocation, effects.selection, effects.interaction, effects.total)),
        )
    table.add_row(
        "active return",
        *(
            _bp(sum((getattr(e, part) for e in linked.segments), Decimal(0)))
            for part in ("allocation", "selection", "interaction")
        ),
        _bp(linked.active_return),
    )
    print_tables(table)
    print(
        f"portfolio {_percent(float(linked.portfolio_return))}, benchmark {_percent(float(linked.benchmark_return))}"
    )
    return 0


def _bp(value: Decimal) -> str:
    return f"{float(value) * 10_000:.1f}"
