"""One fault, one item to work (domain/breaks.py advance): position and cash breaks grouped under the
trade-level or cash-flow break behind them, escalation left to the parent, parents kept and handed
on; breaks closed with their final dates by closing records; and the bank reconciliation's breaks
never resolved by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from services.recon.domain.breaks import Advanced, TransitionRefused, advance, break_id_for, update
from services.recon.domain.records import (
    Break,
    BreakKind,
    BreakStatus,
    Comparison,
    Coverage,
    Difference,
    Outcome,
    Scope,
)
from services.recon.domain.trades import trade_item_key
from tests.recon.builders import CONFIG, D, M, run_on

S = BreakStatus
K = BreakKind
BVC, BVL, LVC = Comparison.BOOK_VS_CUSTODIAN, Comparison.BOOK_VS_LEDGER, Comparison.LEDGER_VS_CUSTODIAN
MON, TUE, WED, THU, FRI = (dt.date(2024, 3, d) for d in (11, 12, 13, 14, 15))
AT = dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)
SIM = dt.datetime(2024, 3, 12, 10, 0, tzinfo=dt.UTC)


def trade(fill: str = "F1", kind: BreakKind = K.MISSING_AT_CUSTODIAN, *, instrument: str = "AAPL", currency: str = "USD",
          mandate: str = M, outcome: Outcome = Outcome.BREAK, other_date: dt.date | None = None) -> Difference:  # fmt: skip
    return Difference(
        item_key=trade_item_key(mandate, fill, kind),
        comparison=BVC,
        scope=Scope.TRADE,
        kind=kind,
        outcome=outcome,
        mandate_id=mandate,
        instrument_id=instrument,
        currency=currency,
        fill_id=fill,
        quantity_difference=D(-100),
        base_currency="USD",
        base_amount_difference=D("-40005759.56"),  # far past the amount threshold
        book_date=TUE if kind is K.SETTLEMENT_DATE_MISMATCH else None,
        other_date=other_date,
        caused_by=(f"mkt-{fill}",),
        description=f"fill {fill}: {kind.value.lower()}",
    )


def flow(cash_flow: str = "CF1", *, currency: str = "USD") -> Difference:
    return Difference(
        item_key=f"BOOK_VS_CUSTODIAN|CASH_FLOW|{M}|{cash_flow}",
        comparison=BVC,
        scope=Scope.CASH_FLOW,
        kind=K.MISSING_AT_CUSTODIAN,
        outcome=Outcome.BREAK,
        mandate_id=M,
        instrument_id="MSFT",
        currency=currency,
        cash_flow_id=cash_flow,
        amount_difference=D("-12345.67"),
        caused_by=("mkt-cf",),
    )


def balance(scope: Scope, subject: str, comparison: Comparison = BVC, amount: str = "40005759.56",
            mandate: str = M) -> Difference:  # fmt: skip
    position = scope is Scope.POSITION
    return Difference(
        item_key=f"{comparison.value}|{scope.value}|{mandate}||{subject}",
        comparison=comparison,
        scope=scope,
        kind=K.QUANTITY_MISMATCH if position else K.CASH_MISMATCH,
        outcome=Outcome.BREAK,
        mandate_id=mandate,
        instrument_id=subject if position else "",
        currency="USD" if position else subject,
        quantity_difference=D(amount) if position else None,
        amount_difference=None if position else D(amount),
        base_currency="USD",
        base_amount_difference=D(amount),
        description=f"{subject}: {amount}",
    )


COVERED = frozenset(Coverage(M, comparison, scope) for comparison in (BVC, BVL, LVC) for scope in Scope)


def step(
    breaks: tuple[Break, ...], differences: list[Difference], day: dt.date, **kwargs: object
) -> Advanced:
    return advance(
        breaks,
        differences,
        run=run_on(day, covered=COVERED),
        today=day,
        calendar=None,
        config=CONFIG,
        **kwargs,
    )  # type: ignore[arg-type]


def by_key(advanced: Advanced) -> dict[str, Break]:
    return {b.item_key: b for b in advanced.breaks}


def test_position_and_cash_breaks_of_every_comparison_are_grouped_under_the_trade_break() -> None:
    # The audit's seed-5 case: a dropped buy shows on the custodian's position and cash, and on the
    # ledger's cash: four open breaks, one fault.
    missing = trade()
    children = [
        balance(Scope.POSITION, "AAPL"),
        balance(Scope.CASH, "USD"),
        balance(Scope.CASH, "USD", BVL),
        balance(Scope.CASH, "USD", LVC),
    ]
    advanced = step((), [missing, *children], MON)
    parent = by_key(advanced)[missing.item_key]
    assert parent.parent_break_id == "" and parent.escalated  # the item to work
    for child in children:
        brk = by_key(advanced)[child.item_key]
        assert brk.parent_break_id == parent.break_id == break_id_for(missing.item_key, 1)
        # not escalated on its own, though far past the amount threshold
        assert (brk.escalated, brk.escalation_reason) == (False, "")
    escalated = [a.break_id for a in advanced.actions if a.kind.value == "ESCALATED"]
    assert escalated == [parent.break_id]


def test_a_trade_break_parents_only_its_own_instrument_currency_and_mandate() -> None:
    advanced = step(
        (),
        [
            trade(instrument="AAPL", currency="USD"),
            balance(Scope.POSITION, "MSFT"),  # another instrument
            balance(Scope.CASH, "EUR"),  # another currency
            balance(Scope.CASH, "USD", mandate="EQ-EUR"),  # another mandate
        ],
        MON,
    )
    assert [b.parent_break_id for b in advanced.breaks if b.scope is not Scope.TRADE] == ["", "", ""]


def test_a_cash_flow_break_parents_cash_of_its_currency_but_no_position() -> None:
    missing = flow()
    advanced = step((), [missing, balance(Scope.CASH, "USD", LVC), balance(Scope.POSITION, "MSFT")], MON)
    found = by_key(advanced)
    parent_id = found[missing.item_key].break_id
    assert found[f"LEDGER_VS_CUSTODIAN|CASH|{M}||USD"].parent_break_id == parent_id
    assert found[f"BOOK_VS_CUSTODIAN|POSITION|{M}||MSFT"].parent_break_id == ""


def test_the_oldest_open_candidate_is_the_parent_and_is_kept_while_open() -> None:
    first = step((), [trade("F2")], MON)
    # a younger trade break of the same currency: the older one (F2, seen Monday) parents the cash
    second = step(first.breaks, [trade("F2"), trade("F1"), balance(Scope.CASH, "USD")], TUE)
    cash = by_key(second)[f"BOOK_VS_CUSTODIAN|CASH|{M}||USD"]
    f1, f2 = (by_key(second)[trade_item_key(M, f, K.MISSING_AT_CUSTODIAN)] for f in ("F1", "F2"))
    assert cash.parent_break_id == f2.break_id
    # among equally old ones, the lower break id
    both = step((), [trade("F1"), trade("F2"), balance(Scope.CASH, "USD")], MON)
    ids = sorted(b.break_id for b in both.breaks if b.scope is Scope.TRADE)
    assert by_key(both)[f"BOOK_VS_CUSTODIAN|CASH|{M}||USD"].parent_break_id == ids[0]
    # F2 resolves: the child moves to the next candidate, F1, and is changed
    third = step(second.breaks, [trade("F1"), balance(Scope.CASH, "USD")], WED)
    moved = by_key(third)[cash.item_key]
    assert moved.parent_break_id == f1.break_id and moved in third.changed
    # kept as it is, though a new candidate would sort first... (F0 is opened today: younger)
    fourth = step(third.breaks, [trade("F1"), trade("F0"), balance(Scope.CASH, "USD")], THU)
    assert by_key(fourth)[cash.item_key].parent_break_id == f1.break_id


def test_a_child_that_loses_its_parent_stands_alone_and_escalates_on_its_own() -> None:
    first = step((), [trade(), balance(Scope.CASH, "USD")], MON)
    cash_key = f"BOOK_VS_CUSTODIAN|CASH|{M}||USD"
    assert not by_key(first)[cash_key].escalated
    alone = step(first.breaks, [balance(Scope.CASH, "USD")], TUE)
    brk = by_key(alone)[cash_key]
    assert (brk.parent_break_id, brk.escalated) == ("", True)
    assert brk.escalation_reason.startswith("|difference| 40,005,759.56 USD reached the threshold")
    assert [a.kind.value for a in alone.actions if a.break_id == brk.break_id] == ["ESCALATED"]
    # grouped again under a new trade break: escalation is the parent's again
    regrouped = step(alone.breaks, [trade("F9"), balance(Scope.CASH, "USD")], WED)
    again = by_key(regrouped)[cash_key]
    assert again.parent_break_id and not again.escalated and again.escalation_reason == ""


def test_a_trade_break_left_open_by_a_run_that_does_not_cover_it_still_parents() -> None:
    first = step((), [trade()], MON)
    only_cash = frozenset({Coverage(M, BVC, Scope.CASH)})
    second = advance(
        first.breaks, [balance(Scope.CASH, "USD")], run=run_on(TUE, covered=only_cash), today=TUE,
        calendar=None, config=CONFIG,
    )  # fmt: skip
    assert by_key(second)[f"BOOK_VS_CUSTODIAN|CASH|{M}||USD"].parent_break_id == first.breaks[0].break_id
    # a written-off trade break of the same difference is no parent
    written, _ = update(first.breaks[0], actor="ana", at=AT, sim_time=SIM, status=S.WRITTEN_OFF)
    third = step((written,), [trade(), balance(Scope.CASH, "USD")], TUE)
    assert by_key(third)[f"BOOK_VS_CUSTODIAN|CASH|{M}||USD"].parent_break_id == ""
    # a resolved one's new generation is
    resolved, _ = update(first.breaks[0], actor="ana", at=AT, sim_time=SIM, status=S.RESOLVED)
    fourth = step((resolved,), [trade(), balance(Scope.CASH, "USD")], TUE)
    assert by_key(fourth)[f"BOOK_VS_CUSTODIAN|CASH|{M}||USD"].parent_break_id == break_id_for(
        trade().item_key, 2
    )


def test_a_late_settlement_closes_with_its_days_late_on_the_record() -> None:
    late = trade(kind=K.SETTLEMENT_DATE_MISMATCH)
    first = step((), [late], TUE)
    assert by_key(first)[late.item_key].other_date is None
    closing = dataclasses.replace(
        trade(kind=K.SETTLEMENT_DATE_MISMATCH, outcome=Outcome.MATCHED, other_date=FRI),
        description="fill F1: settled on 2024-03-15, 3 business day(s) late",
    )
    second = step(first.breaks, [closing], FRI, resolved_by={late.item_key: "mkt-settled"})
    closed = by_key(second)[late.item_key]
    assert (closed.status, closed.book_date, closed.other_date, closed.resolved_by_event_id) == (
        S.RESOLVED,
        TUE,
        FRI,
        "mkt-settled",
    )
    assert closed.description == "fill F1: settled on 2024-03-15, 3 business day(s) late"
    # without a closing record the break keeps what it last showed
    plain = step(first.breaks, [], FRI)
    assert (by_key(plain)[late.item_key].other_date, by_key(plain)[late.item_key].description) == (
        None,
        late.description,
    )
    # a non-break difference without dates (a timing item) is no closing record
    timing = dataclasses.replace(late, outcome=Outcome.TIMING, description="timing")
    assert by_key(step(first.breaks, [timing], FRI))[late.item_key].description == late.description


def test_a_bank_reconciliation_break_is_never_resolved_by_hand() -> None:
    (bank,) = step((), [balance(Scope.CASH, "USD", LVC, "2500.00")], MON).breaks
    with pytest.raises(TransitionRefused, match=r"resolves itself .* or is written off"):
        update(bank, actor="ana", at=AT, sim_time=SIM, status=S.RESOLVED)
    written, _ = update(bank, actor="ana", at=AT, sim_time=SIM, status=S.WRITTEN_OFF)
    assert written.status is S.WRITTEN_OFF
    investigating, _ = update(bank, actor="ana", at=AT, sim_time=SIM, status=S.INVESTIGATING)
    assert investigating.status is S.INVESTIGATING
    # other comparisons may be
    (custodian,) = step((), [balance(Scope.CASH, "USD")], MON).breaks
    assert update(custodian, actor="ana", at=AT, sim_time=SIM, status=S.RESOLVED)[0].status is S.RESOLVED


def test_an_uncovered_older_trade_break_and_a_new_one_sort_by_first_seen() -> None:
    first = step((), [trade("F1")], MON)
    only_cash = frozenset({Coverage(M, BVC, Scope.CASH)})
    second = advance(
        first.breaks, [trade("F2"), balance(Scope.CASH, "USD")], run=run_on(TUE, covered=only_cash), today=TUE,
        calendar=None, config=CONFIG,
    )  # fmt: skip
    assert by_key(second)[f"BOOK_VS_CUSTODIAN|CASH|{M}||USD"].parent_break_id == first.breaks[0].break_id


def test_differences_in_any_order_find_their_parents() -> None:
    advanced = step((), [balance(Scope.CASH, "USD"), balance(Scope.POSITION, "AAPL"), trade()], MON)
    parent = by_key(advanced)[trade().item_key].break_id
    assert {b.parent_break_id for b in advanced.breaks if b.scope is not Scope.TRADE} == {parent}


def test_a_child_keeps_its_parent_while_open_even_when_another_would_sort_first() -> None:
    both = step((), [trade("F1"), trade("F2"), balance(Scope.CASH, "USD")], MON)
    cash_key = f"BOOK_VS_CUSTODIAN|CASH|{M}||USD"
    ids = sorted(b.break_id for b in both.breaks if b.scope is Scope.TRADE)
    assert by_key(both)[cash_key].parent_break_id == ids[0]
    kept = [
        dataclasses.replace(b, parent_break_id=ids[1]) if b.item_key == cash_key else b for b in both.breaks
    ]
    later = step(tuple(kept), [trade("F1"), trade("F2"), balance(Scope.CASH, "USD")], TUE)
    assert by_key(later)[cash_key].parent_break_id == ids[1]


def test_a_break_opened_without_a_parent_has_none() -> None:
    from services.recon.domain.breaks import open_break

    brk = open_break(balance(Scope.CASH, "USD"), 1, run_on(MON, covered=COVERED), MON, CONFIG)
    assert (brk.parent_break_id, brk.escalated) == ("", True)


def test_a_closing_record_gives_the_resolved_break_its_own_dates() -> None:
    late = trade(kind=K.SETTLEMENT_DATE_MISMATCH)
    first = step((), [late], TUE)
    closing = dataclasses.replace(
        late, outcome=Outcome.MATCHED, book_date=WED, other_date=FRI, description="d"
    )
    closed = by_key(step(first.breaks, [closing], FRI))[late.item_key]
    assert (closed.book_date, closed.other_date, closed.description) == (WED, FRI, "d")


def test_the_refusal_to_resolve_a_bank_difference_by_hand_says_what_to_do() -> None:
    (bank,) = step((), [balance(Scope.CASH, "USD", LVC, "2500.00")], MON).breaks
    with pytest.raises(TransitionRefused) as refused:
        update(bank, actor="ana", at=AT, sim_time=SIM, status=S.RESOLVED)
    assert str(refused.value) == (
        f"{bank.break_id} is a ledger-vs-custodian break: it resolves itself when the ledger's cash agrees"
        " with the custodian's, or is written off (WRITTEN_OFF posts the difference to profit and loss);"
        " it cannot be marked resolved"
    )


def test_a_written_off_trade_break_does_not_hide_the_next_candidate() -> None:
    first = step((), [trade("F1")], MON)
    written, _ = update(first.breaks[0], actor="ana", at=AT, sim_time=SIM, status=S.WRITTEN_OFF)
    second = step((written,), [trade("F1"), trade("F2"), balance(Scope.CASH, "USD")], TUE)
    f2 = by_key(second)[trade("F2").item_key]
    assert by_key(second)[f"BOOK_VS_CUSTODIAN|CASH|{M}||USD"].parent_break_id == f2.break_id
