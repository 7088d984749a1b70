"""Reading: filters, stable paging, open breaks, the latest run per mandate and comparison, the
latest generation per item key."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.recon.domain.breaks import break_id_for
from services.recon.domain.records import Break, BreakKind, BreakStatus, Comparison
from services.recon.store import BreakFilter, ReconStore, UnknownBreak
from tests.recon.store.scenario import (
    EUR_FUND,
    MON,
    MONDAY,
    TUE,
    TUESDAY,
    USD_FUND,
    WED,
    check,
    diff,
)


def ids(breaks: list[Break]) -> list[str]:
    return [b.break_id for b in breaks]


def order(brk: Break) -> tuple[dt.datetime, str]:
    return (brk.opened_at, brk.break_id)


@pytest.fixture
def filled(store: ReconStore) -> ReconStore:
    """Monday's three breaks and Tuesday's check: USD cash resolved, MSFT opened vs the ledger."""
    check(store, MON, MONDAY)
    check(store, TUE, TUESDAY)
    return store


def names(store: ReconStore, flt: BreakFilter) -> set[str]:
    return {b.instrument_id or b.currency for b in store.breaks(flt)}


def test_filters(filled: ReconStore) -> None:
    assert names(filled, BreakFilter()) == {"AAPL", "USD", "SAP", "MSFT"}
    assert names(filled, BreakFilter(mandate_id=EUR_FUND)) == {"SAP"}
    assert names(
        filled, BreakFilter(kinds=frozenset({BreakKind.CASH_MISMATCH, BreakKind.MISSING_INTERNALLY}))
    ) == {
        "USD",
        "SAP",
    }
    assert names(filled, BreakFilter(statuses=frozenset({BreakStatus.RESOLVED}))) == {"USD"}
    assert names(filled, BreakFilter(open_only=True)) == {"AAPL", "SAP", "MSFT"}
    # Ages on Tuesday: AAPL and SAP 1 business day, MSFT 0; the resolved USD break stopped at 0.
    assert names(filled, BreakFilter(min_age=1)) == {"AAPL", "SAP"}
    assert names(filled, BreakFilter(max_age=0)) == {"USD", "MSFT"}
    assert names(filled, BreakFilter(min_age=1, max_age=1, mandate_id=USD_FUND)) == {"AAPL"}
    # |base difference|: AAPL 100000.00, SAP 7500.50, MSFT 4000, USD 12.00, compared exactly.
    assert names(filled, BreakFilter(min_abs_base_amount=Decimal("7500.50"))) == {"AAPL", "SAP"}
    assert names(filled, BreakFilter(min_abs_base_amount=Decimal("7500.501"))) == {"AAPL"}
    assert names(filled, BreakFilter(min_abs_base_amount=Decimal("4E+3"))) == {"AAPL", "SAP", "MSFT"}
    assert names(filled, BreakFilter(min_abs_base_amount=Decimal("100000.000001"))) == set()
    assert names(filled, BreakFilter(instrument_id="SAP")) == {"SAP"}
    assert names(filled, BreakFilter(aging_bucket="0-1")) == {"AAPL", "USD", "SAP", "MSFT"}
    assert names(filled, BreakFilter(aging_bucket="2-3")) == set()
    assert names(filled, BreakFilter(escalated_only=True)) == {"AAPL"}  # reached the 100,000 USD threshold


def test_paging_walks_every_break_once_in_a_stable_order(filled: ReconStore) -> None:
    everything = filled.breaks(BreakFilter(), limit=100)
    assert ids(everything) == ids(sorted(everything, key=order))
    assert everything[-1].instrument_id == "MSFT"  # opened on Tuesday, after the three of Monday
    seen: list[str] = []
    after = ""
    while page := filled.breaks(BreakFilter(), after=after, limit=1):
        seen.extend(ids(page))
        after = page[-1].break_id
    assert seen == ids(everything)
    # Paging with a filter, and a break that changes between pages does not move.
    first = filled.breaks(BreakFilter(open_only=True), limit=2)
    check(filled, WED, TUESDAY)  # everything ages a day
    rest = filled.breaks(BreakFilter(open_only=True), after=first[-1].break_id, limit=10)
    assert ids(first) + ids(rest) == ids(filled.open_breaks())
    assert filled.breaks(BreakFilter(), limit=0) == []
    with pytest.raises(UnknownBreak):
        filled.breaks(BreakFilter(), after="BRK-nope")


def test_open_breaks_and_the_head_come_from_one_snapshot(filled: ReconStore) -> None:
    assert {b.instrument_id for b in filled.open_breaks()} == {"AAPL", "SAP", "MSFT"}
    assert {b.instrument_id for b in filled.open_breaks(EUR_FUND)} == {"SAP"}
    head, current = filled.open_breaks_at_head(USD_FUND)
    assert head == filled.head() == 7 and ids(current) == ids(filled.open_breaks(USD_FUND))


def test_latest_runs_per_mandate_and_comparison(filled: ReconStore) -> None:
    runs = filled.latest_runs()
    assert [(r.mandate_id, r.comparison) for r in runs] == [
        (USD_FUND, Comparison.BOOK_VS_CUSTODIAN),  # "BAL-USD" sorts before "GRO-EUR"
        (USD_FUND, Comparison.BOOK_VS_LEDGER),
        (EUR_FUND, Comparison.BOOK_VS_CUSTODIAN),
        (EUR_FUND, Comparison.BOOK_VS_LEDGER),
    ]
    assert {r.as_of_date for r in runs} == {TUE}
    usd = {r.comparison: r for r in filled.latest_runs(USD_FUND)}
    # Tuesday for BAL-USD: vs custodian AAPL still broken, USD cash resolved; vs ledger MSFT opened.
    bvc, bvl = usd[Comparison.BOOK_VS_CUSTODIAN], usd[Comparison.BOOK_VS_LEDGER]
    assert (bvc.compared_count, bvc.unmatched_count, bvc.breaks_opened, bvc.breaks_resolved) == (11, 1, 0, 1)
    assert (bvl.compared_count, bvl.unmatched_count, bvl.breaks_opened, bvl.breaks_resolved) == (11, 1, 1, 0)
    summary = filled.summary(USD_FUND)
    assert summary.runs == tuple(filled.latest_runs(USD_FUND))
    assert summary.open_breaks == tuple(filled.open_breaks(USD_FUND))


def test_latest_by_key_gives_the_latest_generation(filled: ReconStore) -> None:
    cash_key = MONDAY[1].item_key
    latest = filled.latest_by_key()
    assert set(latest) == {d.item_key for d in (*MONDAY, *TUESDAY)}
    assert latest[cash_key].status is BreakStatus.RESOLVED and latest[cash_key].generation == 1
    advanced, _ = check(
        filled, WED, (*TUESDAY, diff("USD", "3.00", scope=MONDAY[1].scope, kind=MONDAY[1].kind))
    )
    assert [b.break_id for b in advanced.opened] == [break_id_for(cash_key, 2)]
    latest = filled.latest_by_key()
    assert latest[cash_key].generation == 2 and latest[cash_key].status is BreakStatus.OPEN
    assert filled.get_break(break_id_for(cash_key, 1)).status is BreakStatus.RESOLVED  # type: ignore[union-attr]
    assert filled.get_break("BRK-nope") is None and filled.break_detail("BRK-nope") is None


def test_latest_for_reads_the_open_breaks_and_the_keys_asked_for(filled: ReconStore) -> None:
    """What a check reads: every open break, plus the latest generation of the keys it has
    differences for (a resolved cash break's key, to open its next generation), and no other
    closed break (years of them are kept; reading them all made each day end slower)."""
    cash_key = MONDAY[1].item_key
    everything = filled.latest_by_key()
    open_keys = {key for key, brk in everything.items() if brk.status.is_open}
    assert open_keys and cash_key not in open_keys  # Tuesday resolved the cash break
    assert filled.latest_for([]) == {key: everything[key] for key in open_keys}
    asked = filled.latest_for([cash_key, "no-such-key"])
    assert asked == {key: everything[key] for key in (*open_keys, cash_key)}
    assert asked[cash_key].status is BreakStatus.RESOLVED
    # Asking for more keys than one query binds gives the same answer.
    many = [f"absent-{n}" for n in range(1_200)] + [cash_key]
    assert filled.latest_for(many) == asked
