"""The audit's cases (issue 10), replayed through the pure domain as the service runs it: compute over
the three books, advance, then the journal each break owes the ledger (domain/suspense.py), posted
into the ledger's balances before the next day end.

- Seed 5 from 2019-03-01: the custodian dropped a 39.6 M face Treasury buy (net 40,005,759.56); the
  ledger, settling on the custodian's message, did not pay either. recon used to post the
  book-vs-custodian cash difference to suspense, taking the ledger 40.0 M away from the custodian.
  Now: one trade break with three children, the bank reconciliation agrees, nothing is posted.
- Seed 7 from 2020-01-02: INC-GBP's cash break changed sign after it had been posted, and suspense
  never followed. Now: the posting is adjusted to the new difference, and the ledger's cash equals
  the custodian's after each journal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from services.common.market_events import Book
from services.recon.domain.breaks import advance
from services.recon.domain.check import LedgerBalance, Reference, books_of, compute, valuation_of
from services.recon.domain.followed import FollowedState, KeptFill
from services.recon.domain.records import Break, BreakKind, Comparison, InstrumentRef, RunContext, Scope
from services.recon.domain.suspense import due_journal, record_journal
from tests.recon.builders import CONFIG, D

FI, INC = "FI-USD", "INC-GBP"
UST = "UST-20210315"
# 2019-03-01 (Fri) .. 2019-03-08 (Fri), and on for the second case
DAYS = [dt.date(2019, 3, d) for d in (1, 4, 5, 6, 7, 8, 11, 12, 13, 14)]
REFERENCE = Reference({FI: "USD", INC: "GBP"}, {UST: InstrumentRef("GOVERNMENT_BOND", "USD")})
NET = D("40005759.56")  # 39,600,000 x 100.25 / 100 = 39,699,000.00 + accrued 306,759.56


def check_day(
    state: FollowedState,
    breaks: Sequence[Break],
    day: dt.date,
    internal: Sequence[Book],
    custodian: Sequence[Book],
    ledger: dict[str, list[LedgerBalance]],
) -> tuple[Break, ...]:
    valuation = valuation_of([], [], REFERENCE)
    books = books_of(day, internal, custodian, valuation, ledger)
    computed = compute(state, books, today=day, config=CONFIG, reference=REFERENCE)
    at = dt.datetime.combine(day, dt.time(23, 59), tzinfo=dt.UTC)
    run = RunContext(f"RUN-{day}", day, at, at, computed.covered)
    return advance(breaks, computed.differences, run=run, today=day, calendar=DAYS, config=CONFIG).breaks


def test_a_dropped_trade_the_ledger_did_not_pay_is_one_item_and_posts_nothing() -> None:
    fill = KeptFill(
        "FIL-0000077", FI, UST, "BUY", D(39600000), D("100.25"), NET, "USD", DAYS[0], DAYS[1], "mkt-290"
    )
    state = FollowedState(fills={fill.fill_id: fill}, dates=list(DAYS))
    start = D("100000000.00")
    breaks: tuple[Break, ...] = ()
    for day in DAYS[:5]:
        settled = day >= fill.settle_date
        internal = [Book(FI, {UST: D(39600000)}, {"USD": start - NET if settled else start})]
        custodian = [Book(FI, {}, {"USD": start})]  # never booked, never paid
        ledger = {
            FI: [
                LedgerBalance(f"Assets:Securities:{UST}", D("39699000.00"), D(39600000)),
                LedgerBalance("Assets:Cash:USD", start),  # settles only on the custodian's message
            ]
        }
        breaks = check_day(state, breaks, day, internal, custodian, ledger)
        assert all(due_journal(b, CONFIG, day) is None for b in breaks), day  # never any suspense
    # Thursday 7 March: past the grace (settle date 4 March + 2 business days = 6 March)
    open_ = {(b.comparison, b.scope): b for b in breaks if b.status.is_open}
    trade = open_[Comparison.BOOK_VS_CUSTODIAN, Scope.TRADE]
    assert (trade.kind, trade.fill_id, trade.first_seen_date) == (
        BreakKind.MISSING_AT_CUSTODIAN,
        fill.fill_id,
        DAYS[0],
    )
    children = {key: b for key, b in open_.items() if b is not trade}
    assert set(children) == {
        (Comparison.BOOK_VS_CUSTODIAN, Scope.POSITION),
        (Comparison.BOOK_VS_CUSTODIAN, Scope.CASH),
        (Comparison.BOOK_VS_LEDGER, Scope.CASH),
    }
    assert all(b.parent_break_id == trade.break_id and not b.escalated for b in children.values())
    # the book paid 40,005,759.56 that neither the custodian nor the ledger did
    assert children[Comparison.BOOK_VS_CUSTODIAN, Scope.CASH].amount_difference == NET
    assert children[Comparison.BOOK_VS_LEDGER, Scope.CASH].amount_difference == NET
    # the bank reconciliation agrees: no ledger-vs-custodian break at all
    assert not any(b.comparison is Comparison.LEDGER_VS_CUSTODIAN for b in breaks)


def test_suspense_follows_a_bank_difference_that_changes_sign() -> None:
    """INC-GBP: the ledger's cash is 100.00 short of the bank's from day 0 (unexplained); at day 5 the
    bank takes 200.00 the ledger never sees, so it is 100.00 long."""
    state = FollowedState(dates=list(DAYS))
    breaks: tuple[Break, ...] = ()
    ledger_cash, suspense = D("900.00"), D(0)
    custodian_cash = D("1000.00")
    journals = []
    for n, day in enumerate(DAYS):
        if n == 5:
            custodian_cash -= D("200.00")
        book = [Book(INC, {}, {"GBP": D("900.00")})]
        ledger = {
            INC: [
                LedgerBalance("Assets:Cash:GBP", ledger_cash),
                LedgerBalance("Assets:Suspense:GBP", suspense),
            ]
        }
        breaks = check_day(state, breaks, day, book, [Book(INC, {}, {"GBP": custodian_cash})], ledger)
        posted = []
        for brk in breaks:
            journal = due_journal(brk, CONFIG, day)
            if journal is None:
                continue
            before = abs(custodian_cash - ledger_cash)
            legs = dict(journal.postings)
            ledger_cash += legs["Assets:Cash:GBP"]
            suspense += legs["Assets:Suspense:GBP"]
            # a posting never moves the ledger's cash away from the bank's; here it lands on it
            assert abs(custodian_cash - ledger_cash) <= before and ledger_cash == custodian_cash
            brk, _ = record_journal(brk, journal, f"J-{n}", at=brk.opened_at, sim_time=brk.opened_at)
            posted.append(brk)
            journals.append((day, journal.action.value, legs["Assets:Cash:GBP"]))
        by_id = {b.break_id: b for b in posted}
        breaks = tuple(by_id.get(b.break_id, b) for b in breaks)
        bank = next(b for b in breaks if b.comparison is Comparison.LEDGER_VS_CUSTODIAN)
        # never more than the open difference, and of its sign
        assert abs(bank.held_in_suspense) <= abs(bank.amount_difference or 0)
        assert bank.held_in_suspense * (bank.amount_difference or 0) >= 0
    # posted at age 3 (6 March), adjusted the day the sign changed (8 March)
    assert journals == [
        (DAYS[3], "POSTED_TO_SUSPENSE", D("100.00")),
        (DAYS[5], "SUSPENSE_ADJUSTED", D("-200.00")),
    ]
    bank = next(b for b in breaks if b.comparison is Comparison.LEDGER_VS_CUSTODIAN)
    assert (bank.amount_difference, bank.held_in_suspense, bank.suspense_version) == (
        D("-100.00"),
        D("-100.00"),
        2,
    )
    assert (ledger_cash, suspense) == (custodian_cash, D("100.00"))
    assert dataclasses.replace(bank, status=bank.status).status.is_open and Decimal(
        0
    ) == ledger_cash + suspense - D("900.00")
