"""The custodian's corrections in the stream: what a follower sees, and the books agreeing again.

corrected_run errs at ten times the seeded rates for 80 synthetic days; corrected_twin is the same
seed with no custodian faults (it keeps the primary's bad prints, which reach the fees). The desk,
investor flows and the internal book never read the custodian, so the twin's fills are the same and
its custodian is the one that made no mistake.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from services.common.calendar import BusinessCalendar
from services.market.sim.faults import correction_delay
from services.market.sim.records import (
    CorrectionKind,
    CustodianCorrection,
    CustodianTrade,
    FaultKind,
    InjectedFault,
    SimEvent,
)
from tests.market.conftest import Run, all_events

K = FaultKind
CUSTODIAN_KINDS = frozenset(
    {
        K.CUSTODIAN_DROP_TRADE,
        K.CUSTODIAN_DUPLICATE_TRADE,
        K.CUSTODIAN_QUANTITY_TYPO,
        K.CUSTODIAN_PRICE_TYPO,
        K.SETTLEMENT_DELAY,
        K.SETTLEMENT_FAIL,
        K.CORPORATE_ACTION_DATE_MISMATCH,
    }
)


def _open_on(faults: tuple[InjectedFault, ...], day: dt.date) -> set[str]:
    """Mandates with a custodian fault applied by `day` and not corrected by then."""
    return {
        f.mandate_id
        for f in faults
        if f.kind in CUSTODIAN_KINDS
        and f.applied_date is not None
        and f.applied_date <= day
        and (f.corrected_date is None or f.corrected_date > day)
    }


def test_a_mandate_with_every_fault_corrected_has_exactly_the_clean_custodians_book(
    corrected_run: Run, corrected_twin: Run
) -> None:
    """Per mandate and day: with no custodian fault open, the custodian holds the positions and cash
    of the custodian that never erred (itself the internal book as of settlement,
    test_engine_faults). Mandates come back to agreement after faults, not only before the first."""
    faults = corrected_run.sim.faults()
    agreed = Counter()
    recovered = set()
    for mine, twin in zip(corrected_run.days, corrected_twin.days, strict=True):
        assert mine.snapshot.internal_books == twin.snapshot.internal_books
        open_mandates = _open_on(faults, mine.date)
        for book, clean in zip(mine.snapshot.custodian_books, twin.snapshot.custodian_books, strict=True):
            if book.mandate_id in open_mandates:
                continue
            assert book == clean, (mine.date, book.mandate_id)
            agreed[book.mandate_id] += 1
            if any(
                f.mandate_id == book.mandate_id and f.corrected_date and f.corrected_date <= mine.date
                for f in faults
            ):
                recovered.add(book.mandate_id)
    assert sum(agreed.values()) > 40 and recovered == {m.mandate_id for m in corrected_run.sim.mandates}


def test_every_kind_of_correction_happens(corrected_run: Run) -> None:
    corrections = [e.payload for e in all_events(corrected_run) if e.kind == "custodian.correction"]
    kinds = Counter(c.kind for c in corrections)
    assert set(kinds) == set(CorrectionKind)
    cancels = [c for c in corrections if c.kind is CorrectionKind.CANCEL_TRADE]
    assert any(c.quantity for c in cancels) and any(not c.quantity for c in cancels)  # settled or not yet
    assert any(c.rebooked_ref for c in cancels) and any(not c.rebooked_ref for c in cancels)
    trades = [e for e in all_events(corrected_run) if e.kind == "custodian.trade"]
    assert any(t.payload.replaces_ref for t in trades)  # rebookings
    late = [t for t in trades if not t.payload.replaces_ref and t.sim_time.date() > t.payload.trade_date]
    assert late  # late bookings of dropped fills
    faults = [f for f in corrected_run.sim.faults() if f.kind in CUSTODIAN_KINDS]
    assert {f.kind for f in faults} == CUSTODIAN_KINDS
    # Nearly everything is corrected by the end; what is not is recent.
    still_open = [f for f in faults if f.corrected_date is None]
    assert len(still_open) < len(faults) / 10
    last = corrected_run.days[-1].date
    calendar = BusinessCalendar([d.date for d in corrected_run.days])
    assert all(
        f.applied_date is not None and calendar.count_between(f.applied_date, last) <= 30 for f in still_open
    )


def _by_id(result: Run) -> dict[str, SimEvent]:
    return {e.event_id: e for e in all_events(result)}


def test_each_correction_names_the_custodian_event_it_corrects(corrected_run: Run) -> None:
    events = _by_id(corrected_run)
    for event in events.values():
        if event.kind != "custodian.correction":
            continue
        record: CustodianCorrection = event.payload
        first = events[event.caused_by[0]]
        assert record.correction_date == event.sim_time.date() and record.mandate_id == event.mandate_id
        if record.kind is CorrectionKind.CANCEL_TRADE:
            assert event.caused_by == (first.event_id,) and first.kind == "custodian.trade"
            assert (
                first.payload.custodian_ref == record.custodian_ref
                and first.payload.fill_id == record.fill_id
            )
            assert record.value_date is None and record.currency == first.payload.currency
        elif record.kind is CorrectionKind.VALUE_DATE:
            assert event.caused_by == (first.event_id,) and first.kind == "custodian.cashflow"
            assert first.payload.custodian_ref == record.custodian_ref
            assert (
                first.payload.value_date != record.value_date
                and first.sim_time.date() < event.sim_time.date()
            )
            assert (record.quantity, record.cash_amount) == (0, 0)
        else:
            # An income adjustment: the correction or late booking behind it, then what it adjusts.
            assert first.kind in ("custodian.correction", "custodian.trade")
            assert first.payload.fill_id == record.fill_id and first.sim_time == event.sim_time
            adjusted = events[event.caused_by[1]]
            if record.custodian_ref:
                assert (
                    adjusted.kind == "custodian.cashflow"
                    and adjusted.payload.custodian_ref == record.custodian_ref
                )
            assert adjusted.payload.cash_flow_id == record.cash_flow_id and record.cash_amount != 0


def test_a_rebooking_replaces_the_cancelled_booking_with_the_fills_figures(corrected_run: Run) -> None:
    events = _by_id(corrected_run)
    rebookings = [e for e in events.values() if e.kind == "custodian.trade" and e.payload.replaces_ref]
    assert rebookings
    for event in rebookings:
        trade: CustodianTrade = event.payload
        fill_event, cancel = events[event.caused_by[0]], events[event.caused_by[1]]
        fill = fill_event.payload
        assert fill_event.kind == "trade.fill" and cancel.kind == "custodian.correction"
        assert (
            cancel.payload.custodian_ref == trade.replaces_ref
            and cancel.payload.rebooked_ref == trade.custodian_ref
        )
        assert cancel.seq == event.seq - 1  # the cancellation, then its rebooking
        assert (trade.quantity, trade.price, trade.net_amount) == (fill.quantity, fill.price, fill.net_amount)
        assert (trade.trade_date, trade.settle_date) == (fill.trade_date, fill.settle_date)


def test_each_fault_records_when_and_by_which_events_it_was_corrected(corrected_run: Run) -> None:
    """The fault's corrected_date is its first correction event's date; every correction event,
    late booking and rebooking belongs to exactly one fault; booking errors are corrected within
    their distribution's days of the trade date."""
    events = _by_id(corrected_run)
    calendar = BusinessCalendar([d.date for d in corrected_run.days])
    owners: Counter[str] = Counter()
    for fault in corrected_run.sim.faults():
        if fault.corrected_date is None:
            assert fault.correction_event_ids == ()
            continue
        assert fault.kind in CUSTODIAN_KINDS
        dates = [events[i].sim_time.date() for i in fault.correction_event_ids]
        assert dates[0] == fault.corrected_date and dates == sorted(dates)
        owners.update(fault.correction_event_ids)
        first = events[fault.correction_event_ids[0]]
        if fault.kind in (K.SETTLEMENT_DELAY, K.SETTLEMENT_FAIL):
            assert first.kind == "custodian.settlement" and first.event_id == fault.event_ids[-1]
        elif fault.kind is K.CORPORATE_ACTION_DATE_MISMATCH:
            assert first.payload.kind is CorrectionKind.VALUE_DATE
        else:
            fill = events[fault.event_ids[0]].payload if fault.kind is K.CUSTODIAN_DROP_TRADE else None
            trade_date = (
                fill.trade_date
                if fill is not None
                else events[
                    next(i for i in fault.event_ids if events[i].kind == "custodian.trade")
                ].payload.trade_date
            )
            assert (
                1
                <= calendar.count_between(trade_date, fault.corrected_date)
                <= correction_delay(fault.kind).longest
            )
            expected = {
                K.CUSTODIAN_DROP_TRADE: "custodian.trade",
                K.CUSTODIAN_DUPLICATE_TRADE: "custodian.correction",
                # The broker's corrected confirmation, at 16:30, before the custodian's cancellation.
                K.CUSTODIAN_QUANTITY_TYPO: "trade.confirmation",
                K.CUSTODIAN_PRICE_TYPO: "trade.confirmation",
            }[fault.kind]
            assert first.kind == expected and getattr(first.payload, "fill_id", "") == fault.fill_id
            if expected == "trade.confirmation":
                wrong = next(events[i] for i in fault.event_ids if events[i].kind == "trade.confirmation")
                assert first.payload.replaces_confirmation_id == wrong.payload.confirmation_id
                assert first.caused_by[1] == wrong.event_id
                assert events[fault.correction_event_ids[1]].kind == "custodian.correction"
    corrective = [
        e
        for e in events.values()
        if e.kind == "custodian.correction"
        or (
            e.kind == "custodian.trade"
            and (e.payload.replaces_ref or e.sim_time.date() > e.payload.trade_date)
        )
    ]
    assert all(owners[e.event_id] == 1 for e in corrective)
    assert all(e.mandate_id == e.payload.mandate_id != "" for e in corrective)


def test_statements_and_snapshots_show_the_corrected_books(corrected_run: Run) -> None:
    """A settled cancellation moves the day's statement by its reversal: the statement is the
    custodian's book after the day's corrections."""
    for day in corrected_run.days:
        statements = {e.mandate_id: e.payload for e in day.events if e.kind == "custodian.statement"}
        for book in day.snapshot.custodian_books:
            assert statements[book.mandate_id].book == book
    previous = {b.mandate_id: b for b in corrected_run.days[0].snapshot.custodian_books}
    moved = 0
    for day in corrected_run.days[1:]:
        for event in day.events:
            record = event.payload
            if (
                event.kind == "custodian.correction"
                and record.kind is CorrectionKind.CANCEL_TRADE
                and record.quantity
            ):
                others = [
                    e
                    for e in day.events
                    if e.mandate_id == event.mandate_id
                    and e.kind in ("custodian.settlement", "custodian.cashflow", "custodian.correction")
                    and getattr(e.payload, "instrument_id", "") == record.instrument_id
                    and e is not event
                ]
                if not others:  # nothing else moved that holding today
                    book = next(b for b in day.snapshot.custodian_books if b.mandate_id == event.mandate_id)
                    before = previous[event.mandate_id].positions.get(record.instrument_id, 0)
                    assert book.positions.get(record.instrument_id, 0) - before == record.quantity
                    moved += 1
        previous = {b.mandate_id: b for b in day.snapshot.custodian_books}
    assert moved > 0
