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
    CustodianCashFlow,
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
from services.recon.domain.records import BookTrade, CustodianTradeRecord

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
    # The custodian's record carries the date it actually settled.
    assert state.bookings["C1"].record().settle_date == MON + dt.timedelta(days=3)
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
    # Unmatched flows one day inside, at, and one day outside the lineage horizon.
    for i, first in enumerate([horizon + dt.timedelta(days=1), horizon, horizon - dt.timedelta(days=1)]):
        state.apply(
            event(
                10 + i, CashFlow(f"CF{i}", "BAL-USD", CashFlowKind.FEE, D("-1"), "USD", pay_date=first), "tf"
            )
        )
    state.prune(keep_fills={"F1"}, today=today)
    assert set(state.fills) == {"F1"} and set(state.bookings) == {"C1"}
    assert set(state.flows) == {"CF0", "CF1"}
    assert set(state.traceparents) == {"mkt-1", "mkt-2", "mkt-10", "mkt-11"}
    state.prune(keep_fills=set(), today=today)
    assert state.fills == {} and state.bookings == {}
    assert set(state.traceparents) == {"mkt-10", "mkt-11"}


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
    with pytest.raises(ValueError, match="recon state version 2 is not known"):
        FollowedState.from_json('{"version": 2}')


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
        "CF1", "EQ-EUR", "EUR", custodian_amount=D("7.00"), custodian_date=MON, custodian_event_id="mkt-1"
    )
    state.apply(event(2, CashFlow("CF1", "EQ-EUR", CashFlowKind.DIVIDEND, D("7.00"), "EUR", pay_date=MON)))
    assert state.flows["CF1"].matched
    # and the internal book's first: its mandate and currency
    state.apply(event(3, CashFlow("CF2", "EQ-EUR", CashFlowKind.FEE, D("-2.00"), "EUR", pay_date=MON)))
    assert state.flows["CF2"] == KeptFlow("CF2", "EQ-EUR", "EUR", D("-2.00"), MON, "mkt-3")


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
