"""The custodian's trade-date positions (its statement plus its unsettled bookings) against the
internal book's, over simulated runs: equal every day without faults; with faults, different only
for an instrument a custodian booking fault hit and not yet corrected."""

from __future__ import annotations

from decimal import Decimal

from services.common.market_events import (
    CustodianCorrection,
    CustodianStatement,
    CustodianTrade,
    SettlementStatus,
)
from services.common.nav.book import ReportingBook
from services.dq.domain.custodian_feed import CustodianFeed
from tests.ledger.domain.sim_runs import Run, simulated_run

BOOKING_FAULTS = {
    "CUSTODIAN_DROP_TRADE",
    "CUSTODIAN_DUPLICATE_TRADE",
    "CUSTODIAN_QUANTITY_TYPO",
    "CUSTODIAN_PRICE_TYPO",
}


def _differences(run: Run) -> list[tuple[str, str, str, Decimal, Decimal]]:
    """(date, mandate, instrument, book, custodian) wherever the two feeds differ at a statement."""
    book = ReportingBook(run.mandates, run.instruments)
    feed = CustodianFeed()
    found = []
    for event in run.events():
        book.apply(event)
        payload = event.payload
        if isinstance(payload, CustodianTrade):
            feed.booked(payload)
        elif isinstance(payload, SettlementStatus):
            feed.settlement(payload)
        elif isinstance(payload, CustodianCorrection):
            feed.corrected(payload)
        elif isinstance(payload, CustodianStatement):
            mandate = payload.book.mandate_id
            ours = {i: q for i, q in book.books[mandate].positions.items() if q}
            theirs = feed.positions(payload)
            for iid in sorted(set(ours) | set(theirs)):
                if ours.get(iid, Decimal(0)) != theirs.get(iid, Decimal(0)):
                    found.append(
                        (
                            str(payload.statement_date),
                            mandate,
                            iid,
                            ours.get(iid, Decimal(0)),
                            theirs.get(iid, Decimal(0)),
                        )
                    )
    return found


def test_without_faults_the_custodians_trade_date_positions_are_the_books_every_day() -> None:
    assert _differences(simulated_run(7, 60, 0.0)) == []


def test_with_faults_only_a_booking_fault_not_yet_corrected_makes_a_difference() -> None:
    run = simulated_run(7, 60, 5.0)
    differences = _differences(run)
    assert differences  # five times the seeded rates: the custodian mis-books some fills
    faults = [f for day in run.days for f in day.result.faults_applied if f.kind.name in BOOKING_FAULTS]
    hit = {(f.mandate_id, f.instrument_id) for f in faults}
    for date, mandate, instrument, _, _ in differences:
        assert (mandate, instrument) in hit, (date, mandate, instrument)
