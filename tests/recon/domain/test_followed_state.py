"""What recon remembers from the stream (domain/followed.py) and what it logs (domain/log_entries.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest

from services.common.market_events import (
    CashFlow,
    CashFlowKind,
    Confirmation,
    CorrectionKind,
    CustodianCashFlow,
    CustodianCorrection,
    CustodianTrade,
    DayEnd,
    Fill,
    MarketEvent,
    Payload,
    SettlementState,
    SettlementStatus,
    Side,
)
from services.recon.domain.followed import (
    FLOW_LINEAGE_DAYS,
    MAX_BREAK_TRACEPARENTS,
    FollowedState,
    KeptBooking,
    KeptFill,
    KeptFlow,
)
from services.recon.domain.log_entries import LogEntry, log_records
from services.recon.domain.records import BookTrade, Comparison, CustodianTradeRecord, Scope

from .test_breaks import DAYS, difference, step

D = Decimal
MON = dt.date(2020, 3, 2)
T = dt.datetime(2020, 3, 2, 21, 0, tzinfo=dt.UTC)


def event(seq: int, payload: Payload, traceparent: str = "", when: dt.datetime = T) -> MarketEvent:
    return MarketEvent(seq, f"mkt-{seq}", when, "k", payload, traceparent=traceparent)


FILL = Fill(
    "F1", "O1", "BAL-USD", "US-AAPL", Side.BUY, D("10"), D("150.00"), "USD",
    D("1500.00"), D("0"), D("1.50"), D("0.10"), D("1501.60"), MON, MON + dt.timedelta(days=2), "BRK",
)  # fmt: skip
TRADE = CustodianTrade(
    "C1", "F1", "BAL-USD", "US-AAPL", Side.BUY, D("10"), D("150.00"), "USD", D("1501.60"),
    MON, MON + dt.timedelta(days=2),
)  # fmt: skip


def settlement(state: SettlementState, day: dt.date) -> SettlementStatus:
    return SettlementStatus("F1", "C1", "BAL-USD", "US-AAPL", state, day, D("10"), D("1501.60"), "USD")


def test_a_fill_its_custodian_trade_and_settlement_are_kept_with_their_lineage() -> None:
    state = FollowedState()
    assert state.apply(event(1, FILL, traceparent="00-aa-01-01")) is None
    state.apply(event(2, TRADE))
    state.apply(event(3, settlement(SettlementState.FAILED, MON + dt.timedelta(days=2))))
    assert state.settled_fill_ids() == set()  # a failed settlement settles nothing
    state.apply(event(4, settlement(SettlementState.SETTLED, MON + dt.timedelta(days=3))))
    assert state.settled_fill_ids() == {"F1"}
    assert state.bookings["C1"].settled_on == MON + dt.timedelta(days=3)
    # The fill first, then the custodian's trade and both status messages, in order.
    assert state.caused_by_of("F1") == ("mkt-1", "mkt-2", "mkt-3", "mkt-4")
    kept = state.fills["F1"]
    assert (kept.side, kept.quantity, kept.net_amount, kept.event_id) == (
        "BUY",
        D("10"),
        D("1501.60"),
        "mkt-1",
    )
    # The custodian's record carries the contractual date it booked, the date it actually settled and
    # its failed report.
    record = state.bookings["C1"].record()
    assert (record.settle_date, record.settled_on, record.failed_on) == (
        MON + dt.timedelta(days=2),
        MON + dt.timedelta(days=3),
        MON + dt.timedelta(days=2),
    )
    # Only events that carried a traceparent are remembered with one.
    assert state.traceparents == {"mkt-1": "00-aa-01-01"}


def test_a_settlement_of_a_trade_recon_never_saw_is_ignored() -> None:
    state = FollowedState()
    state.apply(event(1, settlement(SettlementState.SETTLED, MON)))
    assert state.bookings == {} and state.settled_fill_ids() == set()


def test_cash_flows_match_only_on_the_same_amount_and_date() -> None:
    state = FollowedState()
    internal = CashFlow("CF1", "BAL-USD", CashFlowKind.DIVIDEND, D("12.00"), "USD", pay_date=MON)
    state.apply(event(1, internal))
    flow = state.flows["CF1"]
    assert not flow.matched  # the custodian has not paid yet
    state.apply(
        event(2, CustodianCashFlow("R1", "CF1", "BAL-USD", CashFlowKind.DIVIDEND, D("12.00"), "USD", "", MON))
    )
    assert flow.matched and flow.event_ids == ("mkt-1", "mkt-2")
    # A day late at the custodian is not a match, and the first date is the earlier one.
    late = CustodianCashFlow(
        "R2", "CF2", "BAL-USD", CashFlowKind.COUPON, D("5"), "USD", "", MON + dt.timedelta(days=1)
    )
    state.apply(event(3, CashFlow("CF2", "BAL-USD", CashFlowKind.COUPON, D("5"), "USD", pay_date=MON)))
    state.apply(event(4, late))
    assert not state.flows["CF2"].matched
    assert state.flows["CF2"].first_date == MON
    # An internal flow without a pay date is dated by its event's simulated (UTC) date.
    state.apply(
        event(5, CashFlow("CF3", "BAL-USD", CashFlowKind.FEE, D("-3"), "USD"), when=T + dt.timedelta(days=1))
    )
    assert state.flows["CF3"].internal_date == MON + dt.timedelta(days=1)


def test_a_day_end_is_returned_and_each_business_date_kept_once() -> None:
    state = FollowedState()
    day_end = state.apply(event(9, DayEnd(MON, 9, 1), traceparent="00-bb-02-01"))
    assert day_end is not None
    assert (day_end.seq, day_end.date, day_end.sim_time, day_end.event_id, day_end.traceparent) == (
        9, MON, T, "mkt-9", "00-bb-02-01",
    )  # fmt: skip
    state.apply(event(10, DayEnd(MON, 0, 0)))  # the same date again (an on-demand check)
    state.apply(event(11, DayEnd(MON - dt.timedelta(days=3), 0, 0)))  # an earlier one: never reorders
    assert state.dates == [MON]
    assert state.last_day_end is not None and state.last_day_end.seq == 11


def test_prune_forgets_agreed_fills_matched_and_old_flows_and_their_traceparents() -> None:
    state = FollowedState()
    state.apply(event(1, FILL, traceparent="t1"))
    state.apply(event(2, TRADE, traceparent="t2"))
    today = MON + dt.timedelta(days=40)
    horizon = today - dt.timedelta(days=FLOW_LINEAGE_DAYS)
    # Matched flows one day inside, at, and one day outside the horizon (kept that long for a late
    # adjustment), and an unmatched one far outside it: a cash-flow break, never forgotten.
    for i, first in enumerate([horizon + dt.timedelta(days=1), horizon, horizon - dt.timedelta(days=1)]):
        state.apply(
            event(
                10 + i, CashFlow(f"CF{i}", "BAL-USD", CashFlowKind.FEE, D("-1"), "USD", pay_date=first), "tf"
            )
        )
        paid = CustodianCashFlow(f"R{i}", f"CF{i}", "BAL-USD", CashFlowKind.FEE, D("-1"), "USD", "", first)
        state.apply(event(20 + i, paid))
    state.apply(event(30, CashFlow("CF9", "BAL-USD", CashFlowKind.FEE, D("-1"), "USD", pay_date=MON), "t9"))
    state.prune(keep_fills={"F1"}, today=today)
    assert set(state.fills) == {"F1"} and set(state.bookings) == {"C1"}
    assert set(state.flows) == {"CF0", "CF1", "CF9"}
    assert set(state.traceparents) == {"mkt-1", "mkt-2", "mkt-10", "mkt-11", "mkt-30"}
    state.prune(keep_fills=set(), today=today)
    assert state.fills == {} and state.bookings == {}
    assert set(state.traceparents) == {"mkt-10", "mkt-11", "mkt-30"}


def test_break_traceparents_are_bounded_oldest_first() -> None:
    state = FollowedState()
    state.break_traceparents = {f"BRK-{i}": "t" for i in range(MAX_BREAK_TRACEPARENTS + 2)}
    state.prune(keep_fills=set(), today=MON)
    assert len(state.break_traceparents) == MAX_BREAK_TRACEPARENTS
    assert "BRK-0" not in state.break_traceparents and "BRK-1" not in state.break_traceparents
    assert f"BRK-{MAX_BREAK_TRACEPARENTS + 1}" in state.break_traceparents


def test_the_state_survives_its_json_exactly() -> None:
    state = FollowedState()
    state.apply(event(1, FILL, traceparent="t1"))
    state.apply(event(2, TRADE))
    state.apply(event(3, settlement(SettlementState.SETTLED, MON + dt.timedelta(days=2))))
    state.apply(event(4, CashFlow("CF1", "BAL-USD", CashFlowKind.DIVIDEND, D("12.50"), "USD", pay_date=MON)))
    state.apply(event(5, DayEnd(MON, 5, 1)))
    state.break_traceparents["BRK-1"] = "tb"
    state.outbox = [
        LogEntry("rec-1", "break.opened", T, "ab" * 16, ("mkt-1",), "BAL-USD", "break BRK-1 opened")
    ]
    restored = FollowedState.from_json(state.to_json())
    assert restored == state
    assert restored.flows["CF1"].internal_amount == D("12.50")


def test_a_state_of_an_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match="recon state version 6 is not known"):
        FollowedState.from_json('{"version": 6}')


def _as_version_4(text: str, state: FollowedState) -> dict[str, object]:
    """The state as version 4 wrote it: its dates and day end seqs as ISO strings."""
    old = json.loads(text)
    old["version"] = 4
    old["dates"] = [day.isoformat() for day in state.dates]
    old["day_end_seqs"] = {day.isoformat(): seq for day, seq in state.day_end_seqs.items()}
    return old


def test_a_decade_of_day_ends_is_kept_small_and_survives_the_json() -> None:
    """Dates and day end seqs grow by one a day end and are written at every one: as the first and
    the gaps, not as ISO strings. The seqs cover only the later dates when the state began before
    version 4 (which first kept them); a version 4 state still loads to the same."""
    state = FollowedState()
    day, seq = dt.date(2010, 1, 4), 0
    for n in range(2_520):
        seq += 150 + n % 7
        state.apply(event(seq, DayEnd(day, n + 1, 1)))
        day += dt.timedelta(days=3 if day.weekday() == 4 else 1 + (n % 50 == 0))
    del_before = state.dates[100]
    state.day_end_seqs = {d: s for d, s in state.day_end_seqs.items() if d >= del_before}
    text = state.to_json()
    assert FollowedState.from_json(text) == state
    packed = json.loads(text)
    old = _as_version_4(text, state)

    def size(data: dict[str, object]) -> int:
        return len(json.dumps([data["dates"], data["day_end_seqs"]], separators=(",", ":")))

    # 2,519 gaps of 1 to 4 days and 2,419 steps of 150 to 156 (a digit or three, and a comma, each),
    # against 2,520 ISO dates and 2,420 "date":seq pairs (13 and about 20 characters each).
    assert size(packed) < 20_000 and size(old) > 4 * size(packed)
    assert FollowedState.from_json(json.dumps(old)) == state
    assert FollowedState.from_json(FollowedState().to_json()) == FollowedState()


def test_a_corrected_confirmation_records_which_one_it_replaces_and_survives_the_json() -> None:
    """Only a corrected confirmation is kept: by the event of the one it replaces (its second
    cause), with its own event and day. A version 3 state (before them) loads with none."""
    state = FollowedState()
    first = Confirmation("CNF-1", "FIL-1", "BAL-USD", "kestrel", "kestrel", "text")
    state.apply(dataclasses.replace(event(7, first), caused_by=("mkt-1",)))
    assert state.replaced_confirmations == {}
    corrected = dataclasses.replace(first, confirmation_id="CNF-1-C", replaces_confirmation_id="CNF-1")
    state.apply(dataclasses.replace(event(30, corrected), caused_by=("mkt-1", "mkt-7")))
    assert state.replaced_confirmations == {"mkt-7": ("mkt-30", T.date())}
    assert FollowedState.from_json(state.to_json()) == state
    old = _as_version_4(state.to_json(), state)
    old["version"] = 3
    del old["replaced_confirmations"]
    assert FollowedState.from_json(json.dumps(old)).replaced_confirmations == {}


def test_each_opening_and_aging_of_a_break_is_one_log_entry_naming_it() -> None:
    opened = step((), [difference()], DAYS[0])
    (entry,) = log_records(opened, DAYS[0], T)
    (brk,) = opened.breaks
    assert entry.event_id == f"rec-{brk.break_id}-opened-{DAYS[0].isoformat()}"
    assert (entry.kind, entry.sim_time, entry.mandate_id, entry.caused_by) == (
        "break.opened", T, brk.mandate_id, brk.caused_by,
    )  # fmt: skip
    assert entry.summary.startswith(f"break {brk.break_id} opened: quantity_mismatch")
    # The same difference a day later changes nothing worth logging (no new bucket yet).
    later = step(opened.breaks, [difference()], DAYS[1])
    assert all(e.kind != "break.opened" for e in log_records(later, DAYS[1], T))
    # Once the difference is gone, the break resolves and that is logged.
    resolved = step(later.breaks, [], DAYS[2])
    assert [e.kind for e in log_records(resolved, DAYS[2], T)] == ["break.resolved"]
    assert (
        log_records(resolved, DAYS[2], T)[0].summary
        == f"break {brk.break_id} resolved: the difference went away"
    )


def test_every_field_of_a_fill_and_of_the_custodians_trade_is_kept() -> None:
    state = FollowedState()
    state.apply(event(1, FILL))
    state.apply(event(2, TRADE))
    assert state.fills["F1"] == KeptFill(
        "F1", "BAL-USD", "US-AAPL", "BUY", D("10"), D("150.00"), D("1501.60"), "USD",
        MON, MON + dt.timedelta(days=2), "mkt-1",
    )  # fmt: skip
    assert state.bookings["C1"] == KeptBooking(
        "C1", "F1", "BAL-USD", "US-AAPL", "BUY", D("10"), D("150.00"), "USD",
        MON, MON + dt.timedelta(days=2), "mkt-2",
    )  # fmt: skip


def test_a_cash_flow_the_custodian_reports_first_is_kept_with_its_mandate_and_currency() -> None:
    """The custodian's report may come before the internal book's; either side creates the flow."""
    state = FollowedState()
    state.apply(
        event(
            1, CustodianCashFlow("R1", "CF1", "EQ-EUR", CashFlowKind.DIVIDEND, D("7.00"), "EUR", "SAP", MON)
        )
    )
    assert state.flows["CF1"] == KeptFlow(
        "CF1", "EQ-EUR", "EUR", custodian_amount=D("7.00"), custodian_date=MON, custodian_event_id="mkt-1",
        kind="DIVIDEND", instrument_id="SAP",
    )  # fmt: skip
    state.apply(event(2, CashFlow("CF1", "EQ-EUR", CashFlowKind.DIVIDEND, D("7.00"), "EUR", pay_date=MON)))
    assert state.flows["CF1"].matched
    # and the internal book's first: its mandate and currency
    state.apply(event(3, CashFlow("CF2", "EQ-EUR", CashFlowKind.FEE, D("-2.00"), "EUR", pay_date=MON)))
    assert state.flows["CF2"] == KeptFlow("CF2", "EQ-EUR", "EUR", D("-2.00"), MON, "mkt-3", kind="FEE")


def test_the_lineage_of_a_fill_lists_its_custodian_records_by_reference() -> None:
    """A fill booked twice: the records are listed by custodian reference, whatever order they came in."""
    state = FollowedState()
    state.apply(event(1, FILL))
    state.apply(event(2, dataclasses.replace(TRADE, custodian_ref="C2")))
    state.apply(event(3, TRADE))
    assert state.caused_by_of("F1") == ("mkt-1", "mkt-3", "mkt-2")


def test_the_calendar_is_the_day_ends_seen() -> None:
    state = FollowedState()
    friday, tuesday = MON - dt.timedelta(days=3), MON + dt.timedelta(days=1)
    for seq, day in enumerate((friday, tuesday)):
        state.apply(event(seq, DayEnd(day, 0, 0)))
    # no day end on Monday: a holiday, so the business day after Friday is Tuesday
    assert state.calendar().add(friday, 1) == tuesday


def test_a_day_ends_traceparent_survives_the_json_and_an_older_state_without_one_reads_as_none() -> None:
    state = FollowedState()
    assert FollowedState.from_json(state.to_json()) == state  # no day end seen yet
    state.apply(event(5, DayEnd(MON, 5, 1), traceparent="00-cc-03-01"))
    restored = FollowedState.from_json(state.to_json())
    assert restored.last_day_end is not None and restored.last_day_end.traceparent == "00-cc-03-01"
    older = json.loads(state.to_json())
    del older["last_day_end"]["traceparent"]
    before_traceparents = FollowedState.from_json(json.dumps(older))
    assert before_traceparents.last_day_end is not None
    assert before_traceparents.last_day_end.traceparent == ""


def test_the_check_reads_a_kept_fill_and_booking_as_trade_records() -> None:
    state = FollowedState()
    state.apply(event(1, FILL))
    state.apply(event(2, TRADE))
    settle = MON + dt.timedelta(days=2)
    assert state.fills["F1"].book_trade() == BookTrade(
        "F1", "BAL-USD", "US-AAPL", "BUY", D("10"), D("150.00"), "USD", MON, settle, "mkt-1"
    )
    # before the custodian settles, its record carries the contractual settle date
    assert state.bookings["C1"].record() == CustodianTradeRecord(
        "C1", "F1", "BAL-USD", "US-AAPL", "BUY", D("10"), D("150.00"), "USD", MON, settle, "mkt-2"
    )


def test_prune_keeps_the_bookings_of_a_fill_recon_never_saw_while_they_are_in_question() -> None:
    """A custodian trade whose fill the book does not know (missing internally) stays while the check
    still reports it, and goes once it does not."""
    state = FollowedState()
    state.apply(event(1, dataclasses.replace(TRADE, custodian_ref="C9", fill_id="F9")))
    state.prune(keep_fills={"F9"}, today=MON)
    assert set(state.bookings) == {"C9"}
    state.prune(keep_fills=set(), today=MON)
    assert state.bookings == {}


def test_a_custodians_cash_flow_survives_the_json_and_the_state_is_stored_compactly() -> None:
    state = FollowedState()
    state.apply(
        event(1, CustodianCashFlow("R1", "CF1", "EQ-EUR", CashFlowKind.COUPON, D("7.25"), "EUR", "BUND", MON))
    )
    text = state.to_json()
    restored = FollowedState.from_json(text)
    assert restored == state
    assert (restored.flows["CF1"].custodian_amount, restored.flows["CF1"].custodian_date) == (D("7.25"), MON)
    # committed at every day end: no whitespace between JSON tokens
    assert " " not in text and "\n" not in text


def test_a_break_of_a_fill_is_resolved_by_the_custodians_latest_message_about_it() -> None:
    state = FollowedState()
    # Nothing known about F1 yet: the day end (the fallback) resolves it.
    assert state.resolving_event("F1", "mkt-99") == "mkt-99"
    state.apply(event(1, FILL))
    state.apply(event(2, TRADE))
    # Booked but no settlement report: the booking itself.
    assert state.resolving_event("F1", "mkt-99") == "mkt-2"
    state.apply(event(3, settlement(SettlementState.FAILED, MON)))
    state.apply(event(4, settlement(SettlementState.SETTLED, MON + dt.timedelta(days=3))))
    # The last of its reports, whatever it said.
    assert state.resolving_event("F1", "mkt-99") == "mkt-4"
    # Another fill, and a break with no fill (a cash break), fall back.
    assert state.resolving_event("F2", "mkt-99") == "mkt-99"
    assert state.resolving_event("", "mkt-99") == "mkt-99"


def test_a_fill_booked_twice_is_resolved_by_the_later_custodian_reference() -> None:
    # The custodian booked F1 twice (C1, then C2): its references sort in booking order, and the
    # later booking is the one recon settles against.
    state = FollowedState()
    state.apply(event(1, FILL))
    state.apply(event(2, TRADE))
    state.apply(event(3, dataclasses.replace(TRADE, custodian_ref="C2")))
    assert state.resolving_event("F1", "mkt-99") == "mkt-3"
    # A booking of another fill whose reference sorts last changes nothing for F1.
    state.apply(event(4, dataclasses.replace(TRADE, custodian_ref="C9", fill_id="F9")))
    assert state.resolving_event("F1", "mkt-99") == "mkt-3"


# ---------------------------------------------------------------- the custodian's corrections


def cancel(seq: int, ref: str = "C1", quantity: str = "0", cash: str = "0") -> MarketEvent:
    correction = CustodianCorrection(
        f"CX-{seq}", CorrectionKind.CANCEL_TRADE, ref, "BAL-USD", "USD", MON + dt.timedelta(days=3),
        fill_id="F1", instrument_id="US-AAPL", quantity=D(quantity), cash_amount=D(cash),
    )  # fmt: skip
    return event(seq, correction, traceparent=f"tp-{seq}")


def test_a_cancelled_booking_is_kept_for_its_lineage_but_no_longer_live() -> None:
    state = FollowedState()
    state.apply(event(1, FILL))
    state.apply(event(2, TRADE))
    state.apply(event(3, settlement(SettlementState.SETTLED, MON + dt.timedelta(days=2))))
    assert state.settled_fill_ids() == state.ledger_settled_fill_ids() == {"F1"}
    # the settled booking is cancelled (its settlement reversed at the custodian) and rebooked
    state.apply(cancel(4, quantity="-10", cash="1501.60"))
    booking = state.bookings["C1"]
    assert (booking.live, booking.cancelled_on) == (False, MON + dt.timedelta(days=3))
    assert booking.status_event_ids == ["mkt-3", "mkt-4"]
    # the custodian has settled nothing live; the ledger settled on the first report and ignores it
    assert state.settled_fill_ids() == set() and state.ledger_settled_fill_ids() == {"F1"}
    assert state.last_moves == {"BAL-USD|US-AAPL": "mkt-4", "BAL-USD|USD": "mkt-4"}
    rebooked = dataclasses.replace(TRADE, custodian_ref="C2", replaces_ref="C1")
    state.apply(event(5, rebooked))
    assert state.bookings["C2"].live and state.settled_fill_ids() == set()
    # the resolving event of the fill's breaks is the custodian's latest message: the rebooking
    assert state.resolving_event("F1", "mkt-day-end") == "mkt-5"
    assert state.caused_by_of("F1") == ("mkt-1", "mkt-2", "mkt-3", "mkt-4", "mkt-5")
    assert state.traceparents["mkt-4"] == "tp-4"


def test_cancelling_a_booking_that_had_not_settled_moves_nothing() -> None:
    state = FollowedState()
    state.apply(event(1, FILL))
    state.apply(event(2, TRADE))
    state.apply(cancel(3))
    assert not state.bookings["C1"].live and state.last_moves == {}
    # a cancellation of a booking recon never saw is remembered nowhere
    state.apply(cancel(4, ref="C9"))
    assert set(state.bookings) == {"C1"}


def test_a_failed_report_is_kept_with_its_reason_until_a_settled_one() -> None:
    state = FollowedState()
    state.apply(event(1, FILL))
    state.apply(event(2, TRADE))
    failed = dataclasses.replace(
        settlement(SettlementState.FAILED, MON + dt.timedelta(days=2)),
        reason="counterparty failed to deliver",
    )
    state.apply(event(3, failed))
    record = state.bookings["C1"].record()
    assert (record.failed_on, record.fail_reason, record.settled_on) == (
        MON + dt.timedelta(days=2),
        "counterparty failed to deliver",
        None,
    )
    assert state.last_moves == {}  # a failure moves nothing
    state.apply(event(4, settlement(SettlementState.SETTLED, MON + dt.timedelta(days=3))))
    assert state.last_moves == {"BAL-USD|US-AAPL": "mkt-4", "BAL-USD|USD": "mkt-4"}


def value_date(seq: int, day: dt.date) -> MarketEvent:
    correction = CustodianCorrection(
        f"CX-{seq}", CorrectionKind.VALUE_DATE, "R1", "BAL-USD", "USD", MON + dt.timedelta(days=4),
        cash_flow_id="CF1", instrument_id="US-AAPL", value_date=day,
    )  # fmt: skip
    return event(seq, correction)


def adjustment(seq: int, cash: str, cash_flow: str = "CF1", day: dt.date | None = MON) -> MarketEvent:
    correction = CustodianCorrection(
        f"CX-{seq}", CorrectionKind.INCOME_ADJUSTMENT, "R1", "BAL-USD", "USD", MON + dt.timedelta(days=5),
        cash_flow_id=cash_flow, instrument_id="US-AAPL", quantity=D("-10"), cash_amount=D(cash), value_date=day,
    )  # fmt: skip
    return event(seq, correction)


def test_a_value_date_correction_back_values_the_custodians_cash_flow() -> None:
    state = FollowedState()
    state.apply(event(1, CashFlow("CF1", "BAL-USD", CashFlowKind.DIVIDEND, D("12.00"), "USD", pay_date=MON)))
    late = CustodianCashFlow(
        "R1",
        "CF1",
        "BAL-USD",
        CashFlowKind.DIVIDEND,
        D("12.00"),
        "USD",
        "US-AAPL",
        MON + dt.timedelta(days=1),
    )
    state.apply(event(2, late))
    assert not state.flows["CF1"].matched
    state.apply(value_date(3, MON))
    flow = state.flows["CF1"]
    assert flow.matched and flow.custodian_date == MON
    assert flow.event_ids == ("mkt-1", "mkt-2", "mkt-3") and flow.resolving_event == "mkt-3"
    assert state.resolving_flow_event("CF1", "x") == "mkt-3" and state.resolving_flow_event("CF9", "x") == "x"
    assert state.last_moves == {"BAL-USD|USD": "mkt-2"}  # a value date moves no cash
    record = flow.record()
    assert (record.kind, record.instrument_id, record.book_amount, record.custodian_amount) == (
        "DIVIDEND",
        "US-AAPL",
        D("12.00"),
        D("12.00"),
    )


def test_an_income_adjustment_adds_to_the_custodians_amount() -> None:
    state = FollowedState()
    # the custodian paid a dividend on a holding only it had; the book has none: adjusted away
    paid = CustodianCashFlow("R1", "CF1", "BAL-USD", CashFlowKind.DIVIDEND, D("15.00"), "USD", "US-AAPL", MON)
    state.apply(event(1, paid))
    assert not state.flows["CF1"].matched
    state.apply(adjustment(2, "-15.00"))
    flow = state.flows["CF1"]
    assert flow.custodian_amount == D("0.00") and flow.matched and flow.custodian_date == MON
    assert state.last_moves == {"BAL-USD|USD": "mkt-2"}
    # the custodian had paid nothing (a trade it had dropped): the adjustment is its booking, dated
    # the income's pay date
    state.apply(event(3, CashFlow("CF2", "BAL-USD", CashFlowKind.DIVIDEND, D("7.00"), "USD", pay_date=MON)))
    state.apply(adjustment(4, "7.00", cash_flow="CF2", day=MON))
    assert state.flows["CF2"].matched and state.flows["CF2"].custodian_date == MON
    # without a value date, the correction's own date
    state.apply(adjustment(5, "3.00", cash_flow="CF3", day=None))
    assert state.flows["CF3"].custodian_date == MON + dt.timedelta(days=5)
    # a correction naming no cash flow changes none
    state.apply(adjustment(6, "1.00", cash_flow=""))
    assert set(state.flows) == {"CF1", "CF2", "CF3"}


def test_a_zero_adjustment_moves_no_cash_and_an_unmatched_flow_needs_both_amount_and_date() -> None:
    state = FollowedState()
    state.apply(adjustment(1, "0"))
    assert state.last_moves == {} and state.flows["CF1"].custodian_amount == D(0)
    both_none = KeptFlow("CFX", "BAL-USD", "USD")
    assert both_none.matched  # nothing on either side
    dated = KeptFlow("CFY", "BAL-USD", "USD", D("5"), MON, "e1", D("5"), MON + dt.timedelta(days=1), "e2")
    assert not dated.matched
    assert KeptFlow("CFZ", "BAL-USD", "USD", D("5"), MON, "e1", D("4"), MON, "e2").matched is False


def test_the_resolving_event_of_a_break_follows_what_it_compares() -> None:
    from tests.recon.builders import a_break

    state = FollowedState()
    state.apply(event(1, FILL))
    state.apply(event(2, TRADE))
    state.apply(event(3, settlement(SettlementState.SETTLED, MON)))
    state.apply(
        event(4, CustodianCashFlow("R1", "CF1", "BAL-USD", CashFlowKind.DIVIDEND, D("1"), "EUR", "", MON))
    )
    assert state.resolving_event_of(a_break("B1", fill_id="F1"), "end") == "mkt-3"
    assert state.resolving_event_of(a_break("B2", cash_flow_id="CF1"), "end") == "mkt-4"
    position = a_break("B3", instrument_id="US-AAPL")
    assert state.resolving_event_of(position, "end") == "mkt-3"
    cash = a_break("B4", scope=Scope.CASH, currency="EUR")
    assert state.resolving_event_of(cash, "end") == "mkt-4"
    assert state.resolving_event_of(a_break("B5", scope=Scope.CASH, currency="GBP"), "end") == "end"
    # a ledger comparison's break resolves by what recon cannot see: the day end
    ledger = a_break("B6", comparison=Comparison.BOOK_VS_LEDGER, scope=Scope.CASH, currency="EUR")
    assert state.resolving_event_of(ledger, "end") == "end"
    # before_prune keeps what prune forgets
    snapshot = state.before_prune()
    state.prune(keep_fills=set(), today=MON)
    assert snapshot.resolving_event("F1", "end") == "mkt-3" and state.resolving_event("F1", "end") == "end"


def test_a_version_1_state_still_loads_and_the_new_fields_survive_json() -> None:
    state = FollowedState()
    state.apply(event(1, FILL))
    state.apply(event(2, TRADE))
    state.apply(cancel(3))
    state.apply(adjustment(4, "2.00"))
    restored = FollowedState.from_json(state.to_json())
    assert restored == state and not restored.bookings["C1"].live
    old = _as_version_4(state.to_json(), state)
    old["version"] = 1
    del old["last_moves"]
    for booking in old["bookings"]:
        for name in ("failed_on", "fail_reason", "cancelled_on"):
            del booking[name]
    for flow in old["flows"]:
        for name in ("kind", "instrument_id", "correction_event_ids"):
            del flow[name]
    loaded = FollowedState.from_json(json.dumps(old))
    assert loaded.last_moves == {} and loaded.bookings["C1"].live
    booking = loaded.bookings["C1"]
    assert (booking.failed_on, booking.fail_reason, booking.cancelled_on) == (None, "", None)
    flow = loaded.flows["CF1"]
    assert (flow.correction_event_ids, flow.kind, flow.instrument_id) == ([], "", "")


def test_a_failed_report_survives_the_json() -> None:
    state = FollowedState()
    state.apply(event(1, FILL))
    state.apply(event(2, TRADE))
    failed = dataclasses.replace(settlement(SettlementState.FAILED, MON), reason="no securities")
    state.apply(event(3, failed))
    restored = FollowedState.from_json(state.to_json()).bookings["C1"]
    assert (restored.failed_on, restored.fail_reason) == (MON, "no securities")


def test_the_latest_message_is_found_by_seq_across_bookings_and_ids() -> None:
    state = FollowedState()
    state.apply(event(1, FILL))
    other = dataclasses.replace(TRADE, custodian_ref="C0", fill_id="F9")
    state.apply(event(8, other))  # another fill's booking, met first
    state.apply(event(9, dataclasses.replace(TRADE, custodian_ref="C8")))
    state.apply(event(10, TRADE))
    # mkt-10 is later than mkt-9, though "mkt-10" < "mkt-9" as text
    assert state.resolving_event("F1", "end") == "mkt-10"
    assert state.resolving_event("F9", "end") == "mkt-8"
    duplicate = dataclasses.replace(TRADE, custodian_ref="C2")
    state.apply(event(11, duplicate))
    state.apply(MarketEvent(12, "cus-x", T, "k", settlement(SettlementState.SETTLED, MON)))
    # ids that are not market's rank below every market id
    assert state.resolving_event("F1", "end") == "mkt-11"
    assert state.resolving_event("F2", "end") == "end"


def test_a_cancellation_that_moves_only_units_or_only_cash_moves_the_key() -> None:
    state = FollowedState()
    state.apply(event(1, FILL))
    state.apply(event(2, TRADE))
    state.apply(cancel(3, quantity="-10"))
    assert state.last_moves == {"BAL-USD|US-AAPL": "mkt-3", "BAL-USD|USD": "mkt-3"}
    state.apply(event(4, dataclasses.replace(TRADE, custodian_ref="C5")))
    state.apply(cancel(5, ref="C5", cash="1501.60"))
    assert state.last_moves["BAL-USD|USD"] == "mkt-5"


def test_a_flow_first_known_by_a_correction_takes_its_mandate_currency_and_instrument() -> None:
    state = FollowedState()
    state.apply(adjustment(1, "7.00", cash_flow="CF7"))
    flow = state.flows["CF7"]
    assert (flow.mandate_id, flow.currency, flow.instrument_id) == ("BAL-USD", "USD", "US-AAPL")
    assert flow.record().currency == "USD"
    # the book's own cash flow keeps its instrument, and the custodian's does not overwrite it
    state.apply(
        event(
            2,
            CashFlow(
                "CF8", "BAL-USD", CashFlowKind.DIVIDEND, D("1"), "USD", instrument_id="US-MSFT", pay_date=MON
            ),
        )
    )
    assert state.flows["CF8"].instrument_id == "US-MSFT"
    state.apply(
        event(
            3, CustodianCashFlow("R8", "CF8", "BAL-USD", CashFlowKind.DIVIDEND, D("1"), "USD", "US-XXX", MON)
        )
    )
    assert state.flows["CF8"].instrument_id == "US-MSFT"


def test_before_prune_keeps_the_cash_flows_and_moves_too() -> None:
    state = FollowedState()
    state.apply(event(1, CashFlow("CF1", "BAL-USD", CashFlowKind.DIVIDEND, D("12.00"), "USD", pay_date=MON)))
    state.apply(
        event(2, CustodianCashFlow("R1", "CF1", "BAL-USD", CashFlowKind.DIVIDEND, D("12.00"), "USD", "", MON))
    )
    snapshot = state.before_prune()
    state.prune(keep_fills=set(), today=MON + dt.timedelta(days=60))
    assert state.flows == {} and snapshot.resolving_flow_event("CF1", "end") == "mkt-2"
    state.last_moves.clear()
    assert snapshot.resolving_move("BAL-USD", "USD", "end") == "mkt-2"


def test_without_a_booking_or_a_flow_the_break_resolves_by_the_day_end() -> None:
    from tests.recon.builders import a_break

    state = FollowedState()
    assert state.resolving_event_of(a_break("B1", fill_id="F1"), "end") == "end"
    assert state.resolving_event_of(a_break("B2", cash_flow_id="CF1"), "end") == "end"
