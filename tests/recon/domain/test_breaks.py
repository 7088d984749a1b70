"""Breaks as durable objects: stable ids and aging across runs (weekends and holidays), buckets,
escalation, auto-resolution, generations and the manual workflow (suspense: test_suspense.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from services.common.calendar import BusinessCalendar as MarketCalendar
from services.recon.domain.aging import BusinessCalendar, age_of, as_calendar, bucket_counts
from services.recon.domain.breaks import (
    Advanced,
    InvalidUpdate,
    TransitionRefused,
    advance,
    break_id_for,
    update,
)
from services.recon.domain.reconcile import Counts, reconcile
from services.recon.domain.records import (
    ActionKind,
    Break,
    BreakKind,
    BreakStatus,
    Comparison,
    Coverage,
    Difference,
    Outcome,
    Scope,
)
from services.recon.domain.runs import check_runs, counts_of
from tests.recon.builders import CONFIG, REFERENCE, D, M, pos, run_on

BVC = Comparison.BOOK_VS_CUSTODIAN
# Business days of March 2024 with Friday the 15th a holiday.
HOLIDAY = dt.date(2024, 3, 15)
DAYS = [
    dt.date(2024, 3, d)
    for d in range(1, 32)
    if dt.date(2024, 3, d).weekday() < 5 and dt.date(2024, 3, d) != HOLIDAY
]
CALENDAR = as_calendar(DAYS)
S = BreakStatus


def difference(
    amount: str = "-200",
    *,
    instrument: str = "AAPL",
    mandate: str = M,
    scope: Scope = Scope.POSITION,
    kind: BreakKind = BreakKind.QUANTITY_MISMATCH,
    base: str | None = None,
) -> Difference:
    value = D(amount)
    subject = instrument if scope is Scope.POSITION else "USD"
    return Difference(
        item_key=f"{BVC.value}|{scope.value}|{mandate}||{subject}",
        comparison=BVC,
        scope=scope,
        kind=kind,
        outcome=Outcome.BREAK,
        mandate_id=mandate,
        instrument_id=instrument if scope is Scope.POSITION else "",
        currency="USD",
        quantity_difference=value if scope is Scope.POSITION else None,
        amount_difference=value if scope is Scope.CASH else None,
        base_currency="USD",
        base_amount_difference=None if base is None else D(base),
        caused_by=("mkt-7",),
        description=f"{subject}: off by {amount}",
    )


def step(
    breaks: tuple[Break, ...], differences: list[Difference], day: dt.date, **kwargs: object
) -> Advanced:
    return advance(
        breaks, differences, run=run_on(day), today=day, calendar=CALENDAR, config=CONFIG, **kwargs
    )  # type: ignore[arg-type]


def test_calendar_counts_business_days_like_markets_calendar() -> None:
    market = MarketCalendar(DAYS)
    for start in DAYS[:8]:
        for end in (*DAYS, dt.date(2024, 4, 3), dt.date(2024, 2, 27)):
            assert CALENDAR.count_between(start, end) == market.count_between(start, end), (start, end)
        for n in range(-3, 8):
            assert CALENDAR.add(start, n) == market.add(start, n), (start, n)
    # Over the holiday: Thursday 14th to Monday 18th is one business day.
    assert age_of(dt.date(2024, 3, 14), dt.date(2024, 3, 18), CALENDAR) == 1
    # Plain weekdays with a holiday list give the same answer.
    assert BusinessCalendar(holidays=[HOLIDAY]).count_between(dt.date(2024, 3, 14), dt.date(2024, 3, 18)) == 1


def test_a_break_keeps_its_id_and_ages_in_business_days_across_runs() -> None:
    breaks: tuple[Break, ...] = ()
    history = []
    for day in [d for d in DAYS if d >= dt.date(2024, 3, 13)][:9]:
        result = step(breaks, [difference()], day)
        breaks = result.breaks
        (brk,) = breaks
        history.append(
            (
                day.day,
                brk.age_business_days,
                brk.aging_bucket,
                brk.escalated,
                [a.kind for a in result.actions],
            )
        )
    ids = {b.break_id for b in breaks}
    assert ids == {break_id_for(difference().item_key, 1)}
    K = ActionKind
    # Opened Wednesday the 13th; Friday the 15th is a holiday, so Monday the 18th is age 2.
    # Buckets 0-1, 2-3, 4-7, 8+; the SLA of a quantity mismatch is 5: escalated at age 6.
    assert history == [
        (13, 0, "0-1", False, [K.OPENED]),
        (14, 1, "0-1", False, []),
        (18, 2, "2-3", False, [K.AGED]),
        (19, 3, "2-3", False, []),
        (20, 4, "4-7", False, [K.AGED]),
        (21, 5, "4-7", False, []),
        (22, 6, "4-7", True, [K.ESCALATED]),
        (25, 7, "4-7", True, []),
        (26, 8, "8+", True, [K.AGED]),
    ]
    (brk,) = breaks
    assert brk.first_seen_date == dt.date(2024, 3, 13)
    assert brk.last_seen_date == dt.date(2024, 3, 26)
    assert brk.opened_in_run_id == "RUN-2024-03-13-0"
    assert brk.last_run_id == "RUN-2024-03-26-0"
    assert brk.escalation_reason == "age 6 business days passed the SLA of 5"


def test_rerunning_the_same_check_is_deterministic_and_changes_nothing() -> None:
    day = dt.date(2024, 3, 13)
    first = step((), [difference()], day)
    assert step((), [difference()], day) == first  # same ids, same action ids: a restart replays identically
    again = step(first.breaks, [difference()], day)
    assert again.actions == () and again.changed == () and again.opened == ()
    assert again.breaks == first.breaks


def test_an_earlier_dated_run_does_not_move_last_seen_date_back() -> None:
    wed, thu = dt.date(2024, 3, 13), dt.date(2024, 3, 14)
    seen_thursday = step(step((), [difference()], wed).breaks, [difference()], thu).breaks
    assert seen_thursday[0].last_seen_date == thu
    # A check dated Wednesday again (a replayed day) still finds the difference: the break was last
    # seen on Thursday all the same, and the replayed run is the last to have seen it.
    (brk,) = step(seen_thursday, [difference()], wed).breaks
    assert brk.last_seen_date == thu
    assert brk.last_run_id == run_on(wed).run_id
    assert brk.first_seen_date == wed


def test_escalation_by_amount_and_per_kind_sla() -> None:
    big = step((), [difference(base="-100000")], dt.date(2024, 3, 13))
    (brk,) = big.breaks
    assert (
        brk.escalated and brk.escalation_reason == "|difference| 100,000 USD reached the threshold of 100,000"
    )
    assert [a.kind for a in big.actions] == [ActionKind.OPENED, ActionKind.ESCALATED]
    below = step((), [difference(base="-99999.99")], dt.date(2024, 3, 13))
    assert not below.breaks[0].escalated
    # Cash mismatches have an SLA of 3: escalated at age 4.
    breaks: tuple[Break, ...] = ()
    cash_break = difference("12.00", scope=Scope.CASH, kind=BreakKind.CASH_MISMATCH)
    for day in DAYS[DAYS.index(dt.date(2024, 3, 11)) :][:5]:
        breaks = step(breaks, [cash_break], day).breaks
        assert breaks[0].escalated is (breaks[0].age_business_days > 3)
    assert breaks[0].age_business_days == 4


def test_auto_resolution_names_the_event_and_a_returning_difference_opens_a_new_generation() -> None:
    opened = step((), [difference()], dt.date(2024, 3, 11))
    gone = step(opened.breaks, [], dt.date(2024, 3, 12), resolved_by={difference().item_key: "mkt-99"})
    (resolved,) = gone.resolved
    assert resolved.status is S.RESOLVED
    assert resolved.resolved_by_event_id == "mkt-99"
    assert resolved.resolved_at == run_on(dt.date(2024, 3, 12)).sim_time
    (action,) = gone.actions
    assert (action.kind, action.from_status, action.to_status, action.actor) == (
        ActionKind.AUTO_RESOLVED,
        S.OPEN,
        S.RESOLVED,
        "recon",
    )
    back = step(gone.breaks, [difference("-50")], dt.date(2024, 3, 13))
    (reopened,) = back.opened
    assert reopened.generation == 2
    assert reopened.break_id == break_id_for(difference().item_key, 2) != resolved.break_id
    assert reopened.first_seen_date == dt.date(2024, 3, 13) and reopened.age_business_days == 0
    assert [a.kind for a in back.actions] == [ActionKind.REOPENED]
    assert back.actions[0].comment == f"previous break {resolved.break_id} was resolved"


def test_timing_and_matched_items_resolve_a_break_but_only_within_the_runs_coverage() -> None:
    other_mandate = difference(mandate="GRO-EUR")
    opened = step((), [difference(), other_mandate], dt.date(2024, 3, 11))
    timing = dataclasses.replace(difference(), outcome=Outcome.TIMING)
    covered = frozenset(Coverage(M, BVC, scope) for scope in Scope)
    result = advance(
        opened.breaks,
        [timing],
        run=run_on(dt.date(2024, 3, 12), covered=covered),
        today=dt.date(2024, 3, 12),
        calendar=CALENDAR,
        config=CONFIG,
    )
    assert [b.mandate_id for b in result.resolved] == [M]
    assert {b.mandate_id: b.status for b in result.breaks} == {M: S.RESOLVED, "GRO-EUR": S.OPEN}


def test_a_written_off_difference_stays_written_off_until_it_changes() -> None:
    day1, day2, day3 = dt.date(2024, 3, 11), dt.date(2024, 3, 12), dt.date(2024, 3, 13)
    (brk,) = step((), [difference("-3")], day1).breaks
    written_off, _ = update(
        brk, actor="ana", at=run_on(day1).at, sim_time=run_on(day1).sim_time, status=S.WRITTEN_OFF
    )
    same = step((written_off,), [difference("-3")], day2)
    assert same.breaks == (written_off,) and same.actions == ()
    changed = step((written_off,), [difference("-4")], day3)
    assert changed.opened[0].generation == 2


def test_a_manually_resolved_break_whose_difference_persists_comes_back_as_a_new_generation() -> None:
    day = dt.date(2024, 3, 11)
    (brk,) = step((), [difference()], day).breaks
    resolved, _ = update(
        brk, actor="ana", at=run_on(day).at, sim_time=run_on(day).sim_time, status=S.RESOLVED
    )
    result = step((resolved,), [difference()], dt.date(2024, 3, 12))
    assert result.opened[0].generation == 2


def test_two_break_differences_for_one_item_are_refused() -> None:
    with pytest.raises(ValueError, match="two break differences"):
        step((), [difference(), difference("-1")], dt.date(2024, 3, 11))


# ---------------------------------------------------------------- workflow


@pytest.fixture
def open_break() -> Break:
    return step((), [difference()], dt.date(2024, 3, 11)).breaks[0]


AT = dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)
SIM = dt.datetime(2024, 3, 12, 10, 0, tzinfo=dt.UTC)


def test_assign_comment_and_status_each_become_an_action(open_break: Break) -> None:
    brk, actions = update(
        open_break,
        actor="ana",
        at=AT,
        sim_time=SIM,
        assignee="ops-team",
        comment="asked the custodian",
        status=S.INVESTIGATING,
    )
    assert (brk.assignee, brk.status, brk.updated_at) == ("ops-team", S.INVESTIGATING, SIM)
    assert [(a.kind, a.from_status, a.to_status) for a in actions] == [
        (ActionKind.ASSIGNED, S.OPEN, S.OPEN),
        (ActionKind.STATUS_CHANGED, S.OPEN, S.INVESTIGATING),
        (ActionKind.COMMENTED, S.INVESTIGATING, S.INVESTIGATING),
    ]
    assert all(a.actor == "ana" and a.at == AT and a.sim_time == SIM for a in actions)
    assert actions[0].assignee == "ops-team" and actions[2].comment == "asked the custodian"
    assert len({a.action_id for a in actions}) == 3
    unassigned, (action,) = update(brk, actor="ana", at=AT, sim_time=SIM, assignee="")
    assert unassigned.assignee == "" and action.kind is ActionKind.ASSIGNED
    back, _ = update(brk, actor="bo", at=AT, sim_time=SIM, status=S.OPEN)
    assert back.status is S.OPEN
    closed, _ = update(back, actor="bo", at=AT, sim_time=SIM, status=S.WRITTEN_OFF, comment="immaterial")
    assert closed.status is S.WRITTEN_OFF and closed.resolved_at == SIM


def test_refused_updates_say_why(open_break: Break) -> None:
    with pytest.raises(InvalidUpdate, match="actor"):
        update(open_break, actor=" ", at=AT, sim_time=SIM, comment="x")
    with pytest.raises(InvalidUpdate, match="nothing to change"):
        update(open_break, actor="ana", at=AT, sim_time=SIM)
    with pytest.raises(InvalidUpdate, match="nothing to change"):
        update(open_break, actor="ana", at=AT, sim_time=SIM, status=S.OPEN, assignee="")
    resolved, _ = update(open_break, actor="ana", at=AT, sim_time=SIM, status=S.RESOLVED)
    with pytest.raises(TransitionRefused, match="RESOLVED -> OPEN is not allowed; allowed: none"):
        update(resolved, actor="ana", at=AT, sim_time=SIM, status=S.OPEN)
    with pytest.raises(TransitionRefused, match="cannot be assigned"):
        update(resolved, actor="ana", at=AT, sim_time=SIM, assignee="bo", comment="x")
    commented, (action,) = update(resolved, actor="ana", at=AT, sim_time=SIM, comment="custodian confirmed")
    assert action.kind is ActionKind.COMMENTED and commented.status is S.RESOLVED


# ---------------------------------------------------------------- runs and buckets


def test_check_runs_and_bucket_counts_summarise_a_run() -> None:
    day = dt.date(2024, 3, 13)
    result = reconcile(
        {pos("AAPL"): D(10), pos("MSFT"): D(5)},
        {pos("AAPL"): D(10), pos("MSFT"): D(4)},
        comparison=BVC,
        today=day,
        config=CONFIG,
        calendar=CALENDAR,
        reference=REFERENCE,
    )
    advanced = step((), list(result.differences), day)
    (run,) = check_runs(run_on(day), {(M, BVC): result.counts[M]}, advanced, run_on(day).at)
    assert (run.compared_count, run.matched_count, run.unmatched_count, run.breaks_opened) == (2, 1, 1, 1)
    assert run.trace_id == run_on(day).trace_id
    assert counts_of(result.differences, {M: 1})[M] == Counts(2, 1, 0, 0, 1)
    later = step(advanced.breaks, [result.differences[0]], dt.date(2024, 3, 19)).breaks
    buckets = {b.bucket: b.count for b in bucket_counts(later, CONFIG.aging)}
    assert buckets == {"0-1": 0, "2-3": 1, "4-7": 0, "8+": 0}
    assert Decimal(0) == bucket_counts(later, CONFIG.aging)[1].base_amount  # no valuation given
