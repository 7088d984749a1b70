"""Small builders shared by the recon domain tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.recon.domain.config import ReconConfig
from services.recon.domain.records import (
    Break,
    BreakKind,
    BreakStatus,
    Comparison,
    Coverage,
    InstrumentRef,
    ItemKey,
    RunContext,
    Scope,
)

M = "BAL-USD"
CONFIG = ReconConfig.default()
REFERENCE = {
    "AAPL": InstrumentRef("EQUITY", "USD"),
    "MSFT": InstrumentRef("EQUITY", "USD"),
    "UST-2030": InstrumentRef("GOVERNMENT_BOND", "USD"),
    "SAP": InstrumentRef("EQUITY", "EUR"),
}
ALL_SCOPES = frozenset(
    Coverage(M, comparison, scope)
    for comparison in (Comparison.BOOK_VS_CUSTODIAN, Comparison.BOOK_VS_LEDGER)
    for scope in Scope
)


def pos(instrument: str, mandate: str = M) -> ItemKey:
    return ItemKey(mandate, Scope.POSITION, instrument_id=instrument)


def cash(currency: str, mandate: str = M) -> ItemKey:
    return ItemKey(mandate, Scope.CASH, currency=currency)


def D(text: str | int) -> Decimal:
    return Decimal(text)


def run_on(day: dt.date, n: int = 0, covered: frozenset[Coverage] = ALL_SCOPES) -> RunContext:
    """A check run at the day end of `day` (simulated time), wall clock one minute per run."""
    return RunContext(
        run_id=f"RUN-{day.isoformat()}-{n}",
        as_of_date=day,
        sim_time=dt.datetime.combine(day, dt.time(23, 59), tzinfo=dt.UTC),
        at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=day.toordinal() + n),
        covered=covered,
        trace_id="0" * 31 + "1",
    )


BREAK_DAY = dt.date(2024, 3, 13)


def a_break(break_id: str, mandate: str = M, **changes: object) -> Break:
    """An open book-vs-custodian position break seen first and last on BREAK_DAY; `changes` override."""
    at = dt.datetime.combine(BREAK_DAY, dt.time(23, 59), tzinfo=dt.UTC)
    fields: dict[str, object] = {
        "break_id": break_id,
        "item_key": f"item-{break_id}",
        "generation": 1,
        "mandate_id": mandate,
        "kind": BreakKind.QUANTITY_MISMATCH,
        "status": BreakStatus.OPEN,
        "comparison": Comparison.BOOK_VS_CUSTODIAN,
        "scope": Scope.POSITION,
        "first_seen_date": BREAK_DAY,
        "last_seen_date": BREAK_DAY,
        "opened_at": at,
        "updated_at": at,
        "opened_in_run_id": "RUN-1",
        "last_run_id": "RUN-1",
        **changes,
    }
    return Break(**fields)  # type: ignore[arg-type]
