"""Realistic stored breaks, made the way the service will make them: hand-built Differences, the
domain's `advance` and `check_runs`, then one commit_check per check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from services.recon.domain.breaks import Advanced, advance, break_id_for
from services.recon.domain.reconcile import Counts
from services.recon.domain.records import (
    BreakKind,
    CheckRun,
    Comparison,
    Coverage,
    Difference,
    Outcome,
    Scope,
)
from services.recon.domain.runs import check_runs
from services.recon.store import CommitResult, ReconStore
from tests.recon.builders import CONFIG, run_on

BVC = Comparison.BOOK_VS_CUSTODIAN
BVL = Comparison.BOOK_VS_LEDGER
USD_FUND = "BAL-USD"
EUR_FUND = "GRO-EUR"
MANDATES = (USD_FUND, EUR_FUND)
COVERED = frozenset(Coverage(m, c, s) for m in MANDATES for c in (BVC, BVL) for s in Scope)
# Monday 11 March 2024 and the business days after it (plain weekdays: no calendar given).
MON, TUE, WED = dt.date(2024, 3, 11), dt.date(2024, 3, 12), dt.date(2024, 3, 13)


def diff(
    subject: str,
    amount: str,
    *,
    mandate: str = USD_FUND,
    scope: Scope = Scope.POSITION,
    kind: BreakKind = BreakKind.QUANTITY_MISMATCH,
    base: str | None = None,
    comparison: Comparison = BVC,
    caused_by: tuple[str, ...] = ("mkt-7",),
) -> Difference:
    """A BREAK difference of `amount` (other - book) on a position (subject = instrument) or cash
    balance (subject = currency); base is the difference in the mandate's base currency."""
    value = Decimal(amount)
    position = scope is Scope.POSITION
    base_currency = "EUR" if mandate == EUR_FUND else "USD"
    return Difference(
        item_key=f"{comparison.value}|{scope.value}|{mandate}||{subject}",
        comparison=comparison,
        scope=scope,
        kind=kind,
        outcome=Outcome.BREAK,
        mandate_id=mandate,
        instrument_id=subject if position else "",
        currency=base_currency if position else subject,
        quantity_difference=value if position else None,
        book_quantity=Decimal(1000) if position else None,
        other_quantity=Decimal(1000) + value if position else None,
        amount_difference=None if position else value,
        book_amount=None if position else Decimal("5000.00"),
        other_amount=None if position else Decimal("5000.00") + value,
        base_currency=base_currency,
        base_amount_difference=None if base is None else Decimal(base),
        tolerance_absolute=Decimal("0") if position else Decimal("0.01"),
        tolerance_relative=Decimal("0"),
        caused_by=caused_by,
        description=f"{subject}: off by {amount}",
    )


def runs_for(
    run_day: dt.date, n: int, differences: Sequence[Difference], advanced: Advanced
) -> tuple[CheckRun, ...]:
    """One run per mandate and comparison: 10 exact matches plus the breaks found."""
    counts = {}
    for mandate in MANDATES:
        for comparison in (BVC, BVL):
            found = sum(1 for d in differences if d.mandate_id == mandate and d.comparison is comparison)
            counts[mandate, comparison] = Counts(
                compared=10 + found, matched=10, within_tolerance=0, timing=0, breaks=found
            )
    run = run_on(run_day, n, COVERED)
    return check_runs(run, counts, advanced, finished_at=run.at + dt.timedelta(seconds=1))


def check(
    store: ReconStore,
    day: dt.date,
    differences: Sequence[Difference],
    *,
    n: int = 0,
    cursor: int | None = None,
    state: str | None = None,
    resolved_by: dict[str, str] | None = None,
) -> tuple[Advanced, CommitResult]:
    """One day-end check as the service will run it: advance the stored breaks, record the result."""
    run = run_on(day, n, COVERED)
    advanced = advance(
        store.latest_by_key().values(),
        differences,
        run=run,
        today=day,
        calendar=None,
        config=CONFIG,
        resolved_by=resolved_by,
    )
    runs = runs_for(day, n, differences, advanced)
    result = store.commit_check(runs, advanced.breaks, advanced.actions, cursor=cursor, state=state)
    return advanced, result


# Monday: three breaks. AAPL's base difference reaches the 100,000 USD escalation threshold.
MONDAY = (
    diff("AAPL", "-200", base="-100000.00"),
    diff("USD", "12.00", scope=Scope.CASH, kind=BreakKind.CASH_MISMATCH, base="12.00"),
    diff("SAP", "50", mandate=EUR_FUND, kind=BreakKind.MISSING_INTERNALLY, base="7500.50"),
)
# Tuesday: the USD cash difference is gone (auto-resolved), the others persist, MSFT breaks vs the ledger.
TUESDAY = (
    MONDAY[0],
    MONDAY[2],
    diff("MSFT", "-10", kind=BreakKind.BOOK_VS_LEDGER_MISMATCH, comparison=BVL, base="-4000"),
)


# ------------------------------------------------------------ a longer run, for retention
# Thirty weekdays from Monday 4 March 2024 (no holiday calendar: plain weekdays).
DAYS = tuple(
    day for day in (dt.date(2024, 3, 4) + dt.timedelta(days=n) for n in range(42)) if day.weekday() < 5
)[:30]
HORIZON = DAYS[20]
OLD = diff("OLD", "-5")  # breaks on the first day and never closes: an old open break
RECURRING = diff("USD", "3.00", scope=Scope.CASH)  # a balance key that breaks, closes and breaks again
OLD_ID = break_id_for(OLD.item_key, 1)


def day_differences(i: int) -> list[Difference]:
    """Day i: the old open break, a break of X<j> for each j seen on days j and j + 1 (closing on day
    j + 2), and the USD cash break on days 0-1, 10-11 and 25-26 (generations 1, 2 and 3)."""
    found = [OLD, *(diff(f"X{j}", "7") for j in (i - 1, i) if j >= 0)]
    if i in (0, 1, 10, 11, 25, 26):
        found.append(RECURRING)
    return found


def run_days(store: ReconStore, days: Sequence[int]) -> dict[int, int]:
    """The day-end checks of those days (cursor = day index + 1); the feed's head after each."""
    heads: dict[int, int] = {}
    for i in days:
        _, result = check(store, DAYS[i], day_differences(i), cursor=i + 1)
        heads[i] = result.head
    return heads
