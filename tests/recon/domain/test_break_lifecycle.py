"""The life of a break in detail: which generation is the latest, what a refresh changes and records,
sticky escalation, lineage, write-offs of cash and of a changed kind, the exact wording of refused
updates. (Suspense: test_suspense.py.)"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import pytest

from services.recon.domain.breaks import (
    InvalidUpdate,
    TransitionRefused,
    advance,
    break_id_for,
    update,
)
from services.recon.domain.config import ReconConfig
from services.recon.domain.records import (
    ActionKind,
    Break,
    BreakKind,
    BreakStatus,
    Comparison,
    Coverage,
    Scope,
)
from tests.recon.builders import CONFIG, M, run_on
from tests.recon.domain.test_breaks import CALENDAR, difference, step

S = BreakStatus
K = ActionKind
BVC = Comparison.BOOK_VS_CUSTODIAN
MON, TUE, WED, THU = (dt.date(2024, 3, d) for d in (11, 12, 13, 14))
AT = dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)
SIM = dt.datetime(2024, 3, 12, 10, 0, tzinfo=dt.UTC)


def test_break_ids_hash_the_item_key_and_name_later_generations() -> None:
    digest = hashlib.sha256(b"item").hexdigest()[:20]
    assert break_id_for("item", 1) == f"BRK-{digest}"
    assert break_id_for("item", 2) == f"BRK-{digest}-2"
    assert break_id_for("item", 12) == f"BRK-{digest}-12"


def test_a_new_break_records_the_run_that_opened_it() -> None:
    run = run_on(MON)
    (brk,) = step((), [difference()], MON).breaks
    assert (brk.status, brk.generation, brk.first_seen_date, brk.last_seen_date) == (S.OPEN, 1, MON, MON)
    assert (brk.opened_at, brk.updated_at) == (run.sim_time, run.sim_time)
    assert (brk.opened_in_run_id, brk.last_run_id, brk.trace_id) == (run.run_id, run.run_id, run.trace_id)
    assert (brk.age_business_days, brk.aging_bucket, brk.escalated, brk.escalation_reason) == (
        0,
        "0-1",
        False,
        "",
    )
    assert (brk.mandate_id, brk.comparison, brk.scope, brk.kind) == (
        M,
        BVC,
        Scope.POSITION,
        BreakKind.QUANTITY_MISMATCH,
    )
    assert brk.quantity_difference == difference().quantity_difference
    assert brk.caused_by == ("mkt-7",)
    assert brk.description == "AAPL: off by -200"


def test_the_latest_generation_is_refreshed_whatever_the_order_given() -> None:
    (first,) = step((), [difference()], MON).breaks
    resolved, _ = update(first, actor="ana", at=AT, sim_time=SIM, status=S.RESOLVED)
    (second,) = step((resolved,), [difference()], TUE).opened
    assert second.generation == 2
    # The store hands both generations back, newest first: generation 2 is the one refreshed.
    result = step((second, resolved), [difference()], WED)
    assert [b.break_id for b in result.breaks] == [second.break_id]
    assert result.opened == () and result.breaks[0].age_business_days == 1


def test_a_refresh_takes_the_new_figures_and_records_the_change() -> None:
    opened = step((), [difference("-200")], MON)
    later = step(opened.breaks, [difference("-150")], TUE)
    (brk,) = later.breaks
    assert brk.quantity_difference == difference("-150").quantity_difference
    assert brk.description == "AAPL: off by -150"
    assert brk.updated_at == run_on(TUE).sim_time  # a material change
    assert later.changed == later.breaks
    assert later.opened == () and later.resolved == () and later.actions == ()
    # Seen again unchanged the next day: age 2 moves it to the 2-3 bucket, one AGED action naming it
    again = step(later.breaks, [difference("-150")], WED)
    (aged,) = again.actions
    assert (aged.kind, aged.comment, aged.from_status, aged.to_status) == (K.AGED, "2-3", S.OPEN, S.OPEN)
    assert aged.actor == "recon" and aged.break_id == brk.break_id
    assert again.breaks[0].updated_at == run_on(WED).sim_time


def test_seen_again_unchanged_on_the_same_day_only_the_last_seen_run_moves() -> None:
    opened = step((), [difference()], MON)
    rerun = advance(
        opened.breaks, [difference()], run=run_on(MON, 1), today=MON, calendar=CALENDAR, config=CONFIG
    )
    (brk,) = rerun.breaks
    assert rerun.changed == () and rerun.actions == ()
    assert brk.last_run_id == run_on(MON, 1).run_id
    assert brk.updated_at == opened.breaks[0].updated_at  # not a material change


def test_an_investigated_break_keeps_its_status_and_lineage_grows() -> None:
    (brk,) = step((), [difference()], MON).breaks
    investigating, _ = update(brk, actor="ana", at=AT, sim_time=SIM, status=S.INVESTIGATING)
    more = dataclasses.replace(difference(), caused_by=("mkt-8", "mkt-7"))
    # Four business days later (Mon 11 -> Fri 15 is a holiday -> Mon 18 is age 4): bucket 4-7
    result = step((investigating,), [more], dt.date(2024, 3, 18))
    (refreshed,) = result.breaks
    assert refreshed.status is S.INVESTIGATING
    assert refreshed.caused_by == ("mkt-7", "mkt-8")  # merged, first seen first, no repeats
    (aged,) = result.actions
    assert (aged.kind, aged.from_status, aged.to_status, aged.comment) == (
        K.AGED,
        S.INVESTIGATING,
        S.INVESTIGATING,
        "4-7",
    )


def test_escalation_is_sticky_while_the_break_is_open() -> None:
    big = step((), [difference(base="-150000")], MON)
    (brk,) = big.breaks
    reason = "|difference| 150,000 USD reached the threshold of 100,000"
    assert brk.escalation_reason == reason
    (opened, escalated) = big.actions
    assert (escalated.kind, escalated.comment, escalated.from_status, escalated.to_status) == (
        K.ESCALATED,
        reason,
        S.OPEN,
        S.OPEN,
    )
    assert opened.action_id != escalated.action_id
    # The difference shrinks below the threshold: still escalated, for the same reason, and no new action
    smaller = step(big.breaks, [difference(base="-10")], TUE)
    (kept,) = smaller.breaks
    assert (kept.escalated, kept.escalation_reason) == (True, reason)
    assert [a.kind for a in smaller.actions] == []


def test_a_refresh_that_escalates_records_the_reason() -> None:
    opened = step((), [difference(base="-10")], MON)
    grown = step(opened.breaks, [difference(base="-100000")], TUE)
    (action,) = grown.actions
    assert (action.kind, action.comment) == (
        K.ESCALATED,
        "|difference| 100,000 USD reached the threshold of 100,000",
    )
    assert action.from_status is S.OPEN and action.break_id == opened.breaks[0].break_id


def test_a_written_off_cash_break_stays_only_while_the_amount_is_the_same() -> None:
    cash = difference("12.00", scope=Scope.CASH, kind=BreakKind.CASH_MISMATCH)
    (brk,) = step((), [cash], MON).breaks
    written_off, _ = update(brk, actor="ana", at=AT, sim_time=SIM, status=S.WRITTEN_OFF)
    assert step((written_off,), [cash], TUE).opened == ()
    other_amount = difference("12.01", scope=Scope.CASH, kind=BreakKind.CASH_MISMATCH)
    (reopened,) = step((written_off,), [other_amount], TUE).opened
    assert reopened.generation == 2


def test_a_written_off_break_whose_kind_changes_comes_back() -> None:
    (brk,) = step((), [difference("-3")], MON).breaks
    written_off, _ = update(brk, actor="ana", at=AT, sim_time=SIM, status=S.WRITTEN_OFF)
    missing = difference("-3", kind=BreakKind.MISSING_AT_CUSTODIAN)
    result = step((written_off,), [missing], TUE)
    (reopened,) = result.opened
    assert (reopened.generation, reopened.kind) == (2, BreakKind.MISSING_AT_CUSTODIAN)
    (action,) = result.actions
    assert (action.kind, action.comment) == (K.REOPENED, f"previous break {brk.break_id} was written_off")
    assert (action.from_status, action.to_status) == (S.OPEN, S.OPEN)


def test_an_escalated_reopening_records_both_actions() -> None:
    (brk,) = step((), [difference()], MON).breaks
    resolved, _ = update(brk, actor="ana", at=AT, sim_time=SIM, status=S.RESOLVED)
    result = step((resolved,), [difference(base="100000")], TUE)
    assert [a.kind for a in result.actions] == [K.REOPENED, K.ESCALATED]
    assert result.actions[1].comment == "|difference| 100,000 USD reached the threshold of 100,000"


def test_auto_resolution_without_a_known_event() -> None:
    opened = step((), [difference(), difference(instrument="MSFT")], MON)
    result = step(opened.breaks, [difference(instrument="MSFT")], TUE)
    (closed,) = result.resolved
    assert closed.instrument_id == "AAPL"
    assert (closed.status, closed.resolved_by_event_id, closed.last_run_id) == (
        S.RESOLVED,
        "",
        run_on(TUE).run_id,
    )
    assert closed.updated_at == closed.resolved_at == run_on(TUE).sim_time
    # Changed: MSFT (its age went from 0 to 1, refreshed first) and the resolved AAPL
    assert [(b.instrument_id, b.age_business_days, b.status) for b in result.changed] == [
        ("MSFT", 1, S.OPEN),
        ("AAPL", 0, S.RESOLVED),
    ]
    # The result lists every break by item key: AAPL (resolved) before MSFT (still open)
    assert [(b.instrument_id, b.status) for b in result.breaks] == [("AAPL", S.RESOLVED), ("MSFT", S.OPEN)]


def test_closed_breaks_are_not_resolved_again_and_an_investigated_one_resolves_from_investigating() -> None:
    opened = step((), [difference(), difference(instrument="MSFT")], MON)
    aapl, msft = opened.breaks
    written_off, _ = update(aapl, actor="ana", at=AT, sim_time=SIM, status=S.WRITTEN_OFF)
    investigating, _ = update(msft, actor="ana", at=AT, sim_time=SIM, status=S.INVESTIGATING)
    result = step((written_off, investigating), [], TUE)
    (action,) = result.actions
    assert (action.kind, action.from_status, action.to_status) == (
        K.AUTO_RESOLVED,
        S.INVESTIGATING,
        S.RESOLVED,
    )
    assert [b.status for b in result.breaks] == [S.WRITTEN_OFF, S.RESOLVED]


def test_a_run_resolves_only_the_scopes_it_covers() -> None:
    cash = difference("5", scope=Scope.CASH, kind=BreakKind.CASH_MISMATCH)
    opened = step((), [difference(), cash], MON)
    positions_only = frozenset({Coverage(M, BVC, Scope.POSITION)})
    result = advance(
        opened.breaks,
        [],
        run=run_on(TUE, covered=positions_only),
        today=TUE,
        calendar=CALENDAR,
        config=CONFIG,
    )
    assert [b.scope for b in result.resolved] == [Scope.POSITION]


# ---------------------------------------------------------------- workflow, word for word


@pytest.fixture
def brk() -> Break:
    return step((), [difference()], MON).breaks[0]


def test_refused_updates_say_exactly_why(brk: Break) -> None:
    with pytest.raises(InvalidUpdate, match=r"^actor: who acts is required$"):
        update(brk, actor="", at=AT, sim_time=SIM, comment="x")
    with pytest.raises(InvalidUpdate, match=rf"^{brk.break_id}: nothing to change$"):
        update(brk, actor="ana", at=AT, sim_time=SIM, assignee="")
    resolved, _ = update(brk, actor="ana", at=AT, sim_time=SIM, status=S.RESOLVED)
    with pytest.raises(
        TransitionRefused, match=rf"^{resolved.break_id} is resolved: a closed break cannot be assigned$"
    ):
        update(resolved, actor="ana", at=AT, sim_time=SIM, assignee="bo")
    with pytest.raises(
        TransitionRefused,
        match=rf"^{resolved.break_id}: status RESOLVED -> INVESTIGATING is not allowed; allowed: none \(it is closed\)$",
    ):
        update(resolved, actor="ana", at=AT, sim_time=SIM, status=S.INVESTIGATING)


def test_the_actor_is_trimmed_and_each_action_has_its_own_id(brk: Break) -> None:
    after, actions = update(brk, actor="  ana ", at=AT, sim_time=SIM, assignee="bo", comment="look")
    assert [a.actor for a in actions] == ["ana", "ana"]
    assert [(a.kind, a.assignee, a.comment) for a in actions] == [
        (K.ASSIGNED, "bo", ""),
        (K.COMMENTED, "", "look"),
    ]
    assert all(a.break_id == brk.break_id for a in actions)
    assert actions[0].action_id != actions[1].action_id
    assert after.assignee == "bo" and after.status is S.OPEN
    # The same update again gives the same ids (a retried request is recognisable)
    _, again = update(brk, actor="ana", at=AT, sim_time=SIM, assignee="bo", comment="look")
    assert [a.action_id for a in again] == [a.action_id for a in actions]


def test_reopening_an_investigation_clears_nothing_and_a_resolution_is_timed(brk: Break) -> None:
    investigating, _ = update(brk, actor="ana", at=AT, sim_time=SIM, status=S.INVESTIGATING)
    back, (action,) = update(investigating, actor="ana", at=AT, sim_time=SIM, status=S.OPEN)
    assert (back.status, back.resolved_at) == (S.OPEN, None)
    assert (action.from_status, action.to_status) == (S.INVESTIGATING, S.OPEN)
    done, _ = update(back, actor="ana", at=AT, sim_time=SIM, status=S.RESOLVED)
    assert (done.resolved_at, done.updated_at) == (SIM, SIM)
    # Comments on a closed break keep its status and resolution time
    commented, (note,) = update(done, actor="bo", at=AT, sim_time=SIM + dt.timedelta(hours=1), comment="ok")
    assert (commented.status, commented.resolved_at) == (S.RESOLVED, SIM)
    assert commented.updated_at == SIM + dt.timedelta(hours=1)
    assert (note.from_status, note.to_status) == (S.RESOLVED, S.RESOLVED)


# ---------------------------------------------------------------- ids of actions, and configured edges


def test_automatic_action_ids_are_stable_hashes_of_the_break_the_run_and_the_kind() -> None:
    # Stored ids must come out the same when a run is replayed after a restart, so their derivation is
    # fixed: "ACT-" and the first 24 hex digits of sha256("<break id>|<run id>|<kind>").
    run = run_on(MON)
    result = step((), [difference(base="100000"), difference(instrument="MSFT")], MON)
    aapl = result.breaks[0]
    expected = {
        kind: "ACT-" + hashlib.sha256(f"{aapl.break_id}|{run.run_id}|{kind}".encode()).hexdigest()[:24]
        for kind in ("OPENED", "ESCALATED")
    }
    opened, escalated, msft_opened = result.actions
    assert (opened.action_id, escalated.action_id) == (expected["OPENED"], expected["ESCALATED"])
    assert msft_opened.break_id == result.breaks[1].break_id != opened.break_id
    assert msft_opened.action_id != opened.action_id  # another break, same run and kind
    for action in (opened, escalated):
        assert (action.break_id, action.actor, action.at, action.sim_time) == (
            aapl.break_id,
            "recon",
            run.at,
            run.sim_time,
        )
    assert opened.comment == "" and msft_opened.comment == ""
    # The same break and kind in another run is another action
    again = step((), [difference(base="100000")], TUE).actions[0]
    assert again.action_id != opened.action_id


def test_an_auto_resolution_has_no_comment_and_its_own_id() -> None:
    opened = step((), [difference()], MON)
    (action,) = step(opened.breaks, [], TUE).actions
    run = run_on(TUE)
    brk = opened.breaks[0]
    assert action.comment == ""
    assert action.action_id == (
        "ACT-" + hashlib.sha256(f"{brk.break_id}|{run.run_id}|AUTO_RESOLVED".encode()).hexdigest()[:24]
    )
    assert (action.at, action.sim_time, action.break_id) == (run.at, run.sim_time, brk.break_id)


def test_a_break_opens_at_age_zero_against_the_configured_sla_and_buckets() -> None:
    config = ReconConfig.from_toml(
        "[escalation]\nsla_business_days = 0\n"
        '[[aging.bucket]]\nlabel = "new"\nmin = 0\nmax = 0\n[[aging.bucket]]\nlabel = "old"\nmin = 1\n'
    )
    result = advance((), [difference()], run=run_on(MON), today=MON, calendar=CALENDAR, config=config)
    (brk,) = result.breaks
    # SLA 0: age 0 has not passed it; age 0 is in the bucket "new" (0..0)
    assert (brk.escalated, brk.aging_bucket) == (False, "new")
    later = advance(
        result.breaks, [difference()], run=run_on(TUE), today=TUE, calendar=CALENDAR, config=config
    )
    (aged,) = later.breaks
    assert (aged.escalated, aged.aging_bucket, aged.escalation_reason) == (
        True,
        "old",
        "age 1 business days passed the SLA of 0",
    )


def test_a_refresh_uses_the_threshold_of_the_breaks_base_currency() -> None:
    # JPY's threshold is 10,000,000: a break of 200,000 yen is not escalated (the "*" 100,000 is not JPY's)
    yen = dataclasses.replace(difference(base="200000"), base_currency="JPY")
    opened = step((), [yen], MON)
    refreshed = step(opened.breaks, [yen], TUE)
    assert [b.escalated for b in (*opened.breaks, *refreshed.breaks)] == [False, False]


def test_each_manual_change_stamps_the_break(brk: Break) -> None:
    later = SIM + dt.timedelta(hours=2)
    assigned, _ = update(brk, actor="ana", at=AT, sim_time=later, assignee="bo")
    assert assigned.updated_at == later
    commented, _ = update(brk, actor="ana", at=AT, sim_time=later, comment="called them")
    assert (commented.updated_at, commented.status, commented.assignee) == (later, S.OPEN, "")
    moved, _ = update(brk, actor="ana", at=AT, sim_time=later, status=S.INVESTIGATING)
    assert (moved.updated_at, moved.resolved_at) == (later, None)


def test_manual_action_ids_differ_between_breaks_updated_at_the_same_moment() -> None:
    aapl, msft = step((), [difference(), difference(instrument="MSFT")], MON).breaks
    _, (on_aapl,) = update(aapl, actor="ana", at=AT, sim_time=SIM, comment="same words")
    _, (on_msft,) = update(msft, actor="ana", at=AT, sim_time=SIM, comment="same words")
    assert on_aapl.action_id != on_msft.action_id


def test_an_accepted_write_off_does_not_stop_the_run_from_opening_other_breaks() -> None:
    (aapl,) = step((), [difference("-3")], MON).breaks
    written_off, _ = update(aapl, actor="ana", at=AT, sim_time=SIM, status=S.WRITTEN_OFF)
    # AAPL sorts before MSFT: its write-off is accepted, then MSFT still opens
    result = step((written_off,), [difference("-3"), difference(instrument="MSFT")], TUE)
    assert [b.instrument_id for b in result.opened] == ["MSFT"]
    (opened,) = result.actions
    assert (opened.kind, opened.from_status, opened.to_status) == (K.OPENED, S.OPEN, S.OPEN)
    assert result.changed == result.opened


def test_a_check_on_a_holiday_changes_nothing_material() -> None:
    # Thursday 14th, then a check on Friday 15th, a holiday: the age stays 3 (first seen Monday the 11th)
    seen = step(step((), [difference()], MON).breaks, [difference()], THU)
    holiday = step(seen.breaks, [difference()], dt.date(2024, 3, 15))
    (brk,) = holiday.breaks
    assert brk.age_business_days == seen.breaks[0].age_business_days == 3
    assert brk.last_seen_date == dt.date(2024, 3, 15)  # seen, but not changed
    assert holiday.changed == () and holiday.actions == ()
    assert brk.updated_at == seen.breaks[0].updated_at


def test_manual_action_ids_differ_by_moment_and_kind(brk: Break) -> None:
    later = AT + dt.timedelta(minutes=1)
    _, (first,) = update(brk, actor="ana", at=AT, sim_time=SIM, comment="one")
    _, (second,) = update(brk, actor="ana", at=later, sim_time=SIM, comment="two")
    assert first.action_id != second.action_id  # the same kind at another moment
    _, (assigned,) = update(brk, actor="ana", at=AT, sim_time=SIM, assignee="bo")
    assert assigned.action_id != first.action_id  # another kind at the same moment
