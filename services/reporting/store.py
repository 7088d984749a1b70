"""reporting's storage: each mandate's valuation at every day end, and the cursor with the book's state.

One SQLite file (services/common/sqlite.py) under the data directory. A day end's valuations, the
cursor and the book's state are written in one transaction, so after a crash reporting resumes from
the last day end it stored, never with a day half written or written twice (a day end applied again
replaces its own rows: the same events give the same figures).

A day end is three rows, so that a report reads only what it needs: nav_days the NAV, units and
returns (small rows, read for a whole history), nav_details the holdings and the day's weights and
returns by group (read for the report's own day), and nav_attribution attribution's running sums up
to that day end (domain/running.py; read at a period's base and end). The running sums of a day end
are its predecessor's advanced by its own exposures, computed when the day end is committed.
"""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.common.change_signal import CommitListeners
from services.common.nav.valuation import CashValue, DayValuation, Dealt, HoldingValue, NavBreakdown
from services.common.sqlite import SqliteFile, migrate_schema
from services.reporting.domain import running
from services.reporting.domain.comparison import Comparison, JournalEffect
from services.reporting.domain.daily import ValuedDay
from services.reporting.domain.exposure import Exposure, Group
from services.reporting.domain.periods import DailyPoint
from services.reporting.domain.quarantine import QuarantinedPrice

SQLITE_FILE = "reporting.sqlite3"

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE reporting_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            cursor INTEGER NOT NULL,
            state TEXT
        )""",
        "INSERT INTO reporting_state (id, cursor, state) VALUES (1, 0, NULL)",
        # One row per mandate and day end; money TEXT (exact decimals).
        """CREATE TABLE nav_days (
            mandate_id TEXT NOT NULL,
            date TEXT NOT NULL,
            seq INTEGER NOT NULL,
            nav TEXT NOT NULL,
            flows TEXT NOT NULL,
            units TEXT NOT NULL,
            nav_per_unit TEXT NOT NULL,
            daily_return TEXT,
            benchmark_return TEXT,
            risk_free_return TEXT NOT NULL,
            PRIMARY KEY (mandate_id, date)
        ) WITHOUT ROWID""",
        # The day end's holdings (JSON), and its weights and returns by group, portfolio and benchmark.
        """CREATE TABLE nav_details (
            mandate_id TEXT NOT NULL,
            date TEXT NOT NULL,
            detail TEXT NOT NULL,
            exposure TEXT NOT NULL,
            PRIMARY KEY (mandate_id, date)
        )""",
        # Attribution's running sums up to the day end (domain/running.py): attributed and irregular
        # days so far, the groups held when they changed that day (JSON, else NULL), the sums (JSON).
        """CREATE TABLE nav_attribution (
            mandate_id TEXT NOT NULL,
            date TEXT NOT NULL,
            attributed INTEGER NOT NULL,
            irregular INTEGER NOT NULL,
            regrouped TEXT,
            sums TEXT NOT NULL,
            PRIMARY KEY (mandate_id, date)
        )""",
        "CREATE INDEX nav_attribution_regrouped ON nav_attribution (mandate_id, date) WHERE regrouped IS NOT NULL",
        # Each day end's NAV beside the ledger's, once the ledger had booked that day end.
        """CREATE TABLE nav_comparisons (
            mandate_id TEXT NOT NULL,
            date TEXT NOT NULL,
            seq INTEGER NOT NULL,
            comparison TEXT NOT NULL,
            PRIMARY KEY (mandate_id, date)
        )""",
    ),
    # WatchNav reads the day ends committed after a seq.
    ("CREATE INDEX nav_days_seq ON nav_days (seq, mandate_id)",),
)


class SchemaTooNew(Exception):
    def __init__(self, found: int, known: int) -> None:
        super().__init__(f"reporting's store has schema version {found}; this release knows up to {known}")


class StoreClosed(Exception):
    def __init__(self) -> None:
        super().__init__("reporting's store is closed")


class StoreOutdated(Exception):
    """A file written before the day ends were split in three tables (the store was not released
    then, so migration 1 changed in place): reporting rebuilds it from market's stream once removed."""

    def __init__(self, path: pathlib.Path) -> None:
        super().__init__(
            f"reporting's store {path} predates its current layout (nav_days holds the holdings);"
            " remove the file and reporting rebuilds it from market's stream"
        )


@dataclass(frozen=True, slots=True)
class NavDay:
    """A stored day end of one mandate: the valuation and the units dealt on it, and the holdings
    valued at a last good price because dq quarantined the day's (a provisional NAV)."""

    valuation: DayValuation
    dealt: Dealt
    quarantined: tuple[QuarantinedPrice, ...] = ()


@dataclass(frozen=True, slots=True)
class DayExposure:
    """A stored day's weights and returns by group, for attribution."""

    date: dt.date
    portfolio: Exposure | None
    benchmark: Exposure | None


@dataclass(frozen=True, slots=True)
class NavPoint:
    """A stored day end without its holdings: what a history and the period figures need."""

    date: dt.date
    seq: int
    nav: Decimal
    flows: Decimal
    units: Decimal
    nav_per_unit: Decimal
    daily_return: Decimal | None
    benchmark_return: Decimal | None
    risk_free_return: Decimal


@dataclass(frozen=True, slots=True)
class NavRow:
    """A stored day end as WatchNav sends it: the day end, and the benchmark's return that day."""

    day: NavDay
    benchmark_return: Decimal | None


class ReportingStore:
    """Commits notify subscribers (subscribe) with the cursor: WatchNav's wake-up."""

    def __init__(self, path: pathlib.Path) -> None:
        self._file = SqliteFile(path, migrate=_migrate, closed_error=StoreClosed)
        self._listeners = CommitListeners("reporting")

    def subscribe(self, listener: Callable[[int], None]) -> Callable[[], None]:
        """Call listener(cursor) after every committed day end (from the committing thread)."""
        return self._listeners.subscribe(listener)

    def load(self) -> tuple[int, str | None]:
        """The cursor (the seq of the last stored day end, 0 before any) and the book's state then."""
        with self._file.snapshot() as conn:
            cursor, state = conn.execute("SELECT cursor, state FROM reporting_state WHERE id = 1").fetchone()
        return int(cursor), state

    def cursor(self) -> int:
        """The seq of the last stored day end (0 before any)."""
        with self._file.snapshot() as conn:
            return int(conn.execute("SELECT cursor FROM reporting_state WHERE id = 1").fetchone()[0])

    def commit_day_end(self, seq: int, state: str, days: Sequence[ValuedDay]) -> None:
        """The day end's valuations with their running sums (each mandate's last stored day end before
        it, advanced by its exposures), and the cursor and the book's state, in one transaction."""
        with self._file.write() as conn:
            for day in days:
                v = day.valuation
                key = (v.mandate_id, v.date.isoformat())
                before = _sums_before(conn, v.mandate_id, v.date)
                sums, held = running.advance(before, v.date.isoformat(), day.portfolio, day.benchmark)
                conn.execute(
                    "INSERT OR REPLACE INTO nav_days (mandate_id, date, seq, nav, flows, units, nav_per_unit,"
                    " daily_return, benchmark_return, risk_free_return) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _row(day),
                )
                conn.execute(
                    "INSERT OR REPLACE INTO nav_details (mandate_id, date, detail, exposure) VALUES (?, ?, ?, ?)",
                    (*key, _detail_json(v, day.quarantined), _exposures_json(day)),
                )
                conn.execute(
                    "INSERT OR REPLACE INTO nav_attribution (mandate_id, date, attributed, irregular, regrouped,"
                    " sums) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        *key,
                        sums.days,
                        sums.irregular,
                        None if held is None else json.dumps(held, separators=(",", ":")),
                        _sums_json(sums),
                    ),
                )
            conn.execute("UPDATE reporting_state SET cursor = ?, state = ? WHERE id = 1", (seq, state))
        self._listeners.notify(seq)

    def latest(self, mandate_id: str) -> NavDay | None:
        with self._file.snapshot() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM {_JOINED} WHERE d.mandate_id = ? ORDER BY d.date DESC LIMIT 1",
                (mandate_id,),
            ).fetchone()
        return _nav_day(row) if row else None

    def latest_navs(self, mandate_id: str = "") -> tuple[int, list[NavRow]]:
        """The cursor, and each mandate's latest day end ("": every mandate) as of it, in market's
        order (the mandates of one day end by id); read in one snapshot."""
        with self._file.snapshot() as conn:
            cursor = int(conn.execute("SELECT cursor FROM reporting_state WHERE id = 1").fetchone()[0])
            rows = conn.execute(
                f"SELECT {_COLUMNS}, d.benchmark_return FROM {_JOINED}"
                " WHERE (? = '' OR d.mandate_id = ?)"
                " AND d.date = (SELECT MAX(m.date) FROM nav_days AS m WHERE m.mandate_id = d.mandate_id)"
                " ORDER BY d.seq, d.mandate_id",
                (mandate_id, mandate_id),
            ).fetchall()
        return cursor, [_nav_row(row) for row in rows]

    def navs_after(self, after_seq: int, mandate_id: str = "", days: int = 64) -> tuple[int, list[NavRow]]:
        """The day ends committed after after_seq ("": of every mandate), at most `days` of them, in
        market's order (the mandates of one day end by id), and the seq to read after next: the
        cursor when these are all there are, else the last day end's. One snapshot."""
        with self._file.snapshot() as conn:
            cursor = int(conn.execute("SELECT cursor FROM reporting_state WHERE id = 1").fetchone()[0])
            seqs = conn.execute(
                "SELECT DISTINCT seq FROM nav_days WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                (after_seq, cursor, days + 1),
            ).fetchall()
            until = cursor if len(seqs) <= days else int(seqs[days - 1][0])
            rows = conn.execute(
                f"SELECT {_COLUMNS}, d.benchmark_return FROM {_JOINED}"
                " WHERE d.seq > ? AND d.seq <= ? AND (? = '' OR d.mandate_id = ?)"
                " ORDER BY d.seq, d.mandate_id",
                (after_seq, until, mandate_id, mandate_id),
            ).fetchall()
        return until, [_nav_row(row) for row in rows]

    def day(self, mandate_id: str, date: dt.date) -> NavDay | None:
        with self._file.snapshot() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM {_JOINED} WHERE d.mandate_id = ? AND d.date = ?",
                (mandate_id, date.isoformat()),
            ).fetchone()
        return _nav_day(row) if row else None

    def bounds(self, mandate_id: str) -> tuple[dt.date, dt.date] | None:
        """The first and last stored day ends of a mandate."""
        with self._file.snapshot() as conn:
            first, last = conn.execute(
                "SELECT MIN(date), MAX(date) FROM nav_days WHERE mandate_id = ?", (mandate_id,)
            ).fetchone()
        return (dt.date.fromisoformat(first), dt.date.fromisoformat(last)) if first else None

    def history(
        self, mandate_id: str, first: dt.date, last: dt.date, *, offset: int = 0, limit: int | None = None
    ) -> list[NavPoint]:
        """Day ends from first to last inclusive, oldest first, without the holdings (the NAV only)."""
        with self._file.snapshot() as conn:
            rows = conn.execute(
                "SELECT date, seq, nav, flows, units, nav_per_unit, daily_return, benchmark_return, risk_free_return"
                " FROM nav_days WHERE mandate_id = ? AND date BETWEEN ? AND ?"
                " ORDER BY date LIMIT ? OFFSET ?",
                (mandate_id, first.isoformat(), last.isoformat(), -1 if limit is None else limit, offset),
            ).fetchall()
        return [
            NavPoint(
                dt.date.fromisoformat(date),
                int(seq),
                Decimal(nav),
                Decimal(flows),
                Decimal(units),
                Decimal(per_unit),
                _optional_decimal(daily),
                _optional_decimal(benchmark),
                Decimal(risk_free),
            )
            for date, seq, nav, flows, units, per_unit, daily, benchmark, risk_free in rows
        ]

    def points(self, mandate_id: str, first: dt.date, last: dt.date) -> list[DailyPoint]:
        """What the period figures need of each day end from first to last inclusive, oldest first:
        history() without units, returns as floats (the same floats as float(NavPoint.daily_return))."""
        with self._file.snapshot() as conn:
            rows = conn.execute(
                "SELECT date, nav, flows, daily_return, benchmark_return, risk_free_return"
                " FROM nav_days WHERE mandate_id = ? AND date BETWEEN ? AND ? ORDER BY date",
                (mandate_id, first.isoformat(), last.isoformat()),
            ).fetchall()
        return [
            DailyPoint(
                dt.date.fromisoformat(date),
                Decimal(nav),
                Decimal(flows),
                None if daily is None else float(daily),
                None if benchmark is None else float(benchmark),
                float(risk_free),
            )
            for date, nav, flows, daily, benchmark, risk_free in rows
        ]

    def running_sums(self, mandate_id: str, dates: Iterable[dt.date]) -> dict[dt.date, running.RunningSums]:
        """Attribution's running sums at each of the given day ends that is stored."""
        wanted = sorted({d.isoformat() for d in dates})
        with self._file.snapshot() as conn:
            rows = conn.execute(
                "SELECT date, attributed, irregular, sums FROM nav_attribution"
                f" WHERE mandate_id = ? AND date IN ({', '.join('?' * len(wanted))})",
                (mandate_id, *wanted),
            ).fetchall()
        return {
            dt.date.fromisoformat(date): _sums_from(days, irregular, text)
            for date, days, irregular, text in rows
        }

    def regroupings(
        self, mandate_id: str, after: dt.date, last: dt.date
    ) -> list[tuple[dt.date, int, running.Held]]:
        """The day ends after `after` up to last whose groups changed: (date, attributed days so far,
        the groups held), oldest first."""
        with self._file.snapshot() as conn:
            rows = conn.execute(
                "SELECT date, attributed, regrouped FROM nav_attribution"
                " WHERE mandate_id = ? AND date > ? AND date <= ? AND regrouped IS NOT NULL ORDER BY date",
                (mandate_id, after.isoformat(), last.isoformat()),
            ).fetchall()
        return [
            (
                dt.date.fromisoformat(date),
                int(days),
                {dimension: tuple(names) for dimension, names in json.loads(text).items()},
            )
            for date, days, text in rows
        ]

    def exposures(self, mandate_id: str, first: dt.date, last: dt.date) -> list[DayExposure]:
        """Each day end's weights and returns by group from first to last inclusive, oldest first."""
        with self._file.snapshot() as conn:
            rows = conn.execute(
                "SELECT date, exposure FROM nav_details WHERE mandate_id = ? AND date BETWEEN ? AND ?"
                " ORDER BY date",
                (mandate_id, first.isoformat(), last.isoformat()),
            ).fetchall()
        out = []
        for date, text in rows:
            data = json.loads(text)
            out.append(
                DayExposure(
                    dt.date.fromisoformat(date),
                    _exposure_from(data["portfolio"]),
                    _exposure_from(data["benchmark"]),
                )
            )
        return out

    def uncompared(self, limit: int) -> list[NavDay]:
        """Day ends not yet compared with the ledger, in market's order."""
        with self._file.snapshot() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM {_JOINED}"
                " LEFT JOIN nav_comparisons AS c ON c.mandate_id = d.mandate_id AND c.date = d.date"
                " WHERE c.mandate_id IS NULL ORDER BY d.seq, d.mandate_id LIMIT ?",
                (limit,),
            ).fetchall()
        return [_nav_day(row) for row in rows]

    def record_comparison(self, mandate_id: str, date: dt.date, seq: int, comparison: Comparison) -> None:
        with self._file.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO nav_comparisons (mandate_id, date, seq, comparison) VALUES (?, ?, ?, ?)",
                (mandate_id, date.isoformat(), seq, json.dumps(_comparison_json(comparison))),
            )

    def comparison(self, mandate_id: str, date: dt.date) -> Comparison | None:
        with self._file.snapshot() as conn:
            row = conn.execute(
                "SELECT comparison FROM nav_comparisons WHERE mandate_id = ? AND date = ?",
                (mandate_id, date.isoformat()),
            ).fetchone()
        return _comparison_from(json.loads(row[0])) if row else None

    def last_comparison(self, mandate_id: str, before: dt.date) -> tuple[dt.date, Comparison] | None:
        """The latest stored comparison of a day end before `before`."""
        with self._file.snapshot() as conn:
            row = conn.execute(
                "SELECT date, comparison FROM nav_comparisons WHERE mandate_id = ? AND date < ?"
                " ORDER BY date DESC LIMIT 1",
                (mandate_id, before.isoformat()),
            ).fetchone()
        return (dt.date.fromisoformat(row[0]), _comparison_from(json.loads(row[1]))) if row else None

    def close(self) -> None:
        self._file.close()


_COLUMNS = "d.mandate_id, d.date, d.seq, d.nav, d.flows, d.units, d.nav_per_unit, d.daily_return, x.detail"
_JOINED = "nav_days AS d JOIN nav_details AS x ON x.mandate_id = d.mandate_id AND x.date = d.date"


def _migrate(conn: sqlite3.Connection) -> None:
    # The earlier layout first: the later migrations assume the current one.
    if "detail" in {row[1] for row in conn.execute("PRAGMA table_info(nav_days)")}:
        raise StoreOutdated(pathlib.Path(conn.execute("PRAGMA database_list").fetchone()[2]))
    migrate_schema(conn, MIGRATIONS, SchemaTooNew)


def _sums_before(conn: sqlite3.Connection, mandate_id: str, date: dt.date) -> running.RunningSums:
    """The running sums of the mandate's last stored day end before date (the start before the first)."""
    row = conn.execute(
        "SELECT attributed, irregular, sums FROM nav_attribution WHERE mandate_id = ? AND date < ?"
        " ORDER BY date DESC LIMIT 1",
        (mandate_id, date.isoformat()),
    ).fetchone()
    return running.START if row is None else _sums_from(*row)


def _sums_json(sums: running.RunningSums) -> str:
    return json.dumps(
        {
            dimension: {
                "growth": [str(d.portfolio_growth), str(d.benchmark_growth)],
                "held": list(d.held),
                "groups": {name: _group_sums_json(g) for name, g in d.groups.items()},
            }
            for dimension, d in sums.dimensions.items()
        },
        separators=(",", ":"),
    )


def _group_sums_json(g: running.GroupSums) -> list[str]:
    figures = (
        g.portfolio_weight,
        g.benchmark_weight,
        g.portfolio_growth,
        g.benchmark_growth,
        g.allocation,
        g.selection,
        g.interaction,
        g.currency,
        g.cross,
    )
    return [str(x) for x in figures]


def _sums_from(days: int, irregular: int, text: str) -> running.RunningSums:
    return running.RunningSums(
        int(days),
        int(irregular),
        {
            dimension: running.DimensionSums(
                Decimal(d["growth"][0]),
                Decimal(d["growth"][1]),
                tuple(d["held"]),
                {
                    name: running.GroupSums(*(Decimal(x) for x in figures))
                    for name, figures in d["groups"].items()
                },
            )
            for dimension, d in json.loads(text).items()
        },
    )


def _comparison_json(c: Comparison) -> dict[str, Any]:
    def money(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "status": c.status,
        "ledger_nav": money(c.ledger_nav),
        "difference": money(c.difference),
        "ledger_market_seq": c.ledger_market_seq,
        "detail": c.detail,
        "unexplained": money(c.unexplained),
        "event_id": c.event_id,
        "causes": [
            [j.journal_id, j.kind, j.effective_date.isoformat(), j.memo, j.posted_by, j.source_event_id,
             list(j.caused_by), str(j.equity_effect)]
            for j in c.causes
        ],
        "quarantined": _quarantined_json(c.quarantined),
    }  # fmt: skip


def _comparison_from(data: dict[str, Any]) -> Comparison:
    return Comparison(
        status=data["status"],
        ledger_nav=_optional_decimal(data["ledger_nav"]),
        difference=_optional_decimal(data["difference"]),
        ledger_market_seq=data["ledger_market_seq"],
        detail=data["detail"],
        unexplained=_optional_decimal(data["unexplained"]),
        event_id=data["event_id"],
        causes=tuple(
            JournalEffect(
                jid, kind, dt.date.fromisoformat(date), memo, by, source, tuple(caused), Decimal(effect)
            )
            for jid, kind, date, memo, by, source, caused, effect in data["causes"]
        ),
        quarantined=_quarantined_from(data.get("quarantined", ())),
    )


def _quarantined_json(quarantined: Sequence[QuarantinedPrice]) -> list[list[str]]:
    return [
        [q.instrument_id, q.issue_id, str(q.rejected_price), str(q.used_price), q.used_price_date.isoformat(),
         str(q.nav_effect)]
        for q in quarantined
    ]  # fmt: skip


def _quarantined_from(rows: Iterable[Sequence[str]]) -> tuple[QuarantinedPrice, ...]:
    return tuple(
        QuarantinedPrice(
            iid, issue, Decimal(rejected), Decimal(used), dt.date.fromisoformat(on), Decimal(effect)
        )
        for iid, issue, rejected, used, on, effect in rows
    )


def _optional_decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _exposure_json(exposure: Exposure | None) -> dict[str, Any] | None:
    if exposure is None:
        return None
    return {
        "total": str(exposure.total_return),
        "groups": {
            dimension: {
                name: [str(g.weight), str(g.total_return), str(g.excess_return), str(g.currency_return)]
                for name, g in groups.items()
            }
            for dimension, groups in exposure.groups.items()
        },
    }


def _exposure_from(data: dict[str, Any] | None) -> Exposure | None:
    if data is None:
        return None
    return Exposure(
        Decimal(data["total"]),
        {
            dimension: {name: Group(*(Decimal(x) for x in figures)) for name, figures in groups.items()}
            for dimension, groups in data["groups"].items()
        },
    )


def _row(day: ValuedDay) -> tuple[Any, ...]:
    v, d = day.valuation, day.dealt
    return (
        v.mandate_id,
        v.date.isoformat(),
        v.seq,
        str(v.nav),
        str(v.flows),
        str(d.units),
        str(d.nav_per_unit),
        None if d.daily_return is None else str(d.daily_return),
        None if day.benchmark_return is None else str(day.benchmark_return),
        str(day.risk_free_return),
    )


def _detail_json(v: DayValuation, quarantined: Sequence[QuarantinedPrice] = ()) -> str:
    detail = {
        "base_currency": v.base_currency,
        "breakdown": [
            str(v.breakdown.securities_value),
            str(v.breakdown.cash_value),
            str(v.breakdown.accrued_income),
            str(v.breakdown.liabilities),
        ],
        "holdings": [
            [
                h.instrument_id,
                h.currency,
                str(h.quantity),
                str(h.price),
                h.price_date.isoformat(),
                str(h.market_value),
                str(h.accrued_interest),
                str(h.fx_rate),
                str(h.base_market_value),
                str(h.base_accrued_interest),
            ]
            for h in v.holdings
        ],
        "cash": [[c.currency, str(c.amount), str(c.fx_rate), str(c.base_amount)] for c in v.cash],
        "warnings": list(v.warnings),
        "quarantined": _quarantined_json(quarantined),
    }
    return json.dumps(detail, separators=(",", ":"))


def _exposures_json(day: ValuedDay) -> str:
    return json.dumps(
        {"portfolio": _exposure_json(day.portfolio), "benchmark": _exposure_json(day.benchmark)},
        separators=(",", ":"),
    )


def _nav_day(row: sqlite3.Row | tuple[Any, ...]) -> NavDay:
    mandate_id, date, seq, _nav, flows, units, per_unit, daily_return, detail_text = row
    detail = json.loads(detail_text)
    securities, cash_value, accrued, liabilities = (Decimal(x) for x in detail["breakdown"])
    holdings = tuple(
        HoldingValue(
            iid,
            ccy,
            Decimal(q),
            Decimal(p),
            dt.date.fromisoformat(pd),
            Decimal(mv),
            Decimal(ai),
            Decimal(fx),
            Decimal(bmv),
            Decimal(bai),
        )
        for iid, ccy, q, p, pd, mv, ai, fx, bmv, bai in detail["holdings"]
    )
    cash = tuple(CashValue(ccy, Decimal(a), Decimal(fx), Decimal(b)) for ccy, a, fx, b in detail["cash"])
    valuation = DayValuation(
        mandate_id=mandate_id,
        date=dt.date.fromisoformat(date),
        seq=int(seq),
        base_currency=detail["base_currency"],
        breakdown=NavBreakdown(securities, cash_value, accrued, liabilities),
        holdings=holdings,
        cash=cash,
        flows=Decimal(flows),
        warnings=tuple(detail["warnings"]),
    )
    dealt = Dealt(Decimal(units), Decimal(per_unit), None if daily_return is None else Decimal(daily_return))
    return NavDay(valuation, dealt, _quarantined_from(detail.get("quarantined", ())))


def _nav_row(row: sqlite3.Row | tuple[Any, ...]) -> NavRow:
    return NavRow(_nav_day(tuple(row[:-1])), _optional_decimal(row[-1]))


def open_store(data_dir: pathlib.Path) -> ReportingStore:
    return ReportingStore(pathlib.Path(data_dir) / SQLITE_FILE)
