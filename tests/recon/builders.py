"""Small builders shared by the recon domain tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.recon.domain.config import ReconConfig
from services.recon.domain.records import (
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
