"""Bonds' accrued interest carried at every day end (docs/ledger-design.md, clock.day_end), on hand-worked figures.

The ledger carries Assets:AccruedInterest:<CCY> = quantity x the day's primary quoted accrued per 100 / 100
(half-even to the cent) per bond held, and posts the change against Income:Interest, so its equity at
market includes the accrued interest NAV includes.

The bond: UST-2030 (USD), 3 % semiannual, 30/360, coupons on 15 Mar and 15 Sep (both weekdays in 2023),
so 1.5 per 100 a period of 180 days and the quoted accrued is 1.5 x days / 180 (8 places, half-even):
    10 Mar 2023  175 days  1.45833333     16 Mar    1 day   0.00833333     18 Sep    3 days  0.02500000
    13 Mar       178       1.48333333     15 Jun   90       0.75000000     20 Sep    5       0.04166667
    14 Mar       179       1.49166667     14 Sep  179       1.49166667     17 Oct   32       0.26666667
    15 Mar         0       0              15 Sep    0       0              18 Oct   33       0.27500000
and at the settle dates of the fills 19 Oct (34 days) 0.28333333, 20 Oct (35 days) 0.29166667
(services/market/sim/bonds.accrued_interest gives the same for a 3 % 30/360 bond maturing 15 Mar 2030).
Fills carry the accrued at their settle date, as market's do; the day end uses the trade date's quote.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from services.common.market_events import (
    CashFlow,
    CashFlowKind,
    DayEnd,
    Fill,
    MarketEvent,
    PriceQuote,
    Side,
    priced_per_100,
)
from services.ledger.domain.records import JournalKind

from .builders import Stream, balances, legs, new_book
from .sim_runs import Run, simulated_run
from .test_rules_examples import check

D = Decimal
M, BOND = "M-FIFO", "UST-2030"
ACCRUED = ("Assets:AccruedInterest:USD", "USD")
INTEREST = ("Income:Interest:USD", "USD")


def _day(stream: Stream, day: dt.date, accrued: str, price: str = "101.500") -> None:
    """The day's regime and the bond's primary quote (vendor_b's, with an accrued of its own, is ignored)."""
    stream.regime(day)
    stream.price(day, BOND, price, accrued=accrued)
    stream.price(day, BOND, "99.000", accrued="9.99999999", vendor="vendor_b")


def _carried(stream: Stream) -> Decimal:
    return balances(stream.drafts, M).get(ACCRUED, D(0))


def _interest(stream: Stream) -> Decimal:
    return balances(stream.drafts, M).get(INTEREST, D(0))


def test_accrued_interest_follows_the_quote_through_a_purchase_two_coupons_and_the_sale() -> None:
    stream = Stream(new_book())

    # ---- Fri 10 Mar: BUY 10000 face @ 101.500, settle Tue 14 Mar (a holder on the record date, 14 Mar).
    _day(stream, dt.date(2023, 3, 10), "1.45833333")
    # gross 10000 x 101.500 / 100 = 10150.00; accrued at settle 10000 x 1.49166667 / 100 = 149.166667 -> 149.17;
    # net 10150.00 + 149.17 = 10299.17. The fill debits Income:Interest 149.17 (unchanged rule).
    stream.fill(dt.date(2023, 3, 10), "FIL-1", M, BOND, "BUY", "10000", "101.500", gross="10150.00",
                accrued="149.17", net="10299.17", settle=dt.date(2023, 3, 14))  # fmt: skip
    # Day end: value 10000 x 101.500 / 100 = 10150.00 = cost, so no mark; the accrual alone:
    # target 10000 x 1.45833333 / 100 = 145.833333 -> 145.83, carried 0: Dr AccruedInterest 145.83.
    [accrual] = stream.day_end(dt.date(2023, 3, 10))
    assert accrual.kind is JournalKind.ACCRUAL and accrual.mandate_id == M
    assert accrual.idempotency_key == f"mkt:{stream.last_id}:interest:{M}"
    assert accrual.source_event_id == stream.last_id and accrual.effective_date == dt.date(2023, 3, 10)
    assert legs(accrual) == [
        ("Assets:AccruedInterest:USD", D("145.83"), "USD"),
        ("Income:Interest:USD", D("-145.83"), "USD"),
    ]
    assert accrual.postings[0].memo == "UST-2030: 10000 x 1.45833333 / 100"
    assert stream.book.accrued_interest[M] == {BOND: D("145.83")}
    # Income:Interest: +149.17 bought - 145.83 accrued = +3.34 (a debit until the accrual catches up).
    assert _interest(stream) == D("3.34")

    # ---- Mon 13 Mar: 10000 x 1.48333333 / 100 = 148.333333 -> 148.33; change 148.33 - 145.83 = +2.50.
    _day(stream, dt.date(2023, 3, 13), "1.48333333")
    [accrual] = stream.day_end(dt.date(2023, 3, 13))
    assert legs(accrual) == [
        ("Assets:AccruedInterest:USD", D("2.50"), "USD"),
        ("Income:Interest:USD", D("-2.50"), "USD"),
    ]
    assert _carried(stream) == D("148.33")

    # ---- Tue 14 Mar (record date), settlement: 10000 x 1.49166667 / 100 = 149.166667 -> 149.17; +0.84.
    _day(stream, dt.date(2023, 3, 14), "1.49166667")
    stream.settlement(
        dt.date(2023, 3, 14), "FIL-1", M, BOND, settled=True, quantity="10000", cash="-10299.17"
    )
    stream.day_end(dt.date(2023, 3, 14))
    assert _carried(stream) == D("149.17")
    # On the settle date the accrual carried is the accrued bought: Income:Interest +149.17 - 149.17 = 0.
    assert _interest(stream) == 0

    # ---- Wed 15 Mar, coupon date: 10000 x 1.5 / 100 = 150.00 paid (Cr Income:Interest 150.00); the quote's
    # accrued resets to 0, so the day end reverses the 149.17 built up (Dr Income:Interest 149.17).
    _day(stream, dt.date(2023, 3, 15), "0")
    stream.cash_flow(dt.date(2023, 3, 15), "coupon", M, "150.00", instrument_id=BOND, quantity="10000")
    [accrual] = stream.day_end(dt.date(2023, 3, 15))
    assert legs(accrual) == [
        ("Assets:AccruedInterest:USD", D("-149.17"), "USD"),
        ("Income:Interest:USD", D("149.17"), "USD"),
    ]
    assert accrual.postings[0].memo == "UST-2030: 10000 x 0 / 100"
    assert _carried(stream) == 0 and stream.book.accrued_interest[M] == {}
    # The part period bought into: coupon 150.00 - accrued bought 149.17 = 0.83 of income (a credit).
    assert _interest(stream) == D("-0.83")
    before_period = _interest(stream)

    # ---- A full coupon period, 15 Mar to 15 Sep, 10000 held throughout.
    # Thu 16 Mar: 10000 x 0.00833333 / 100 = 0.833333 -> 0.83.
    _day(stream, dt.date(2023, 3, 16), "0.00833333")
    stream.day_end(dt.date(2023, 3, 16))
    assert _carried(stream) == D("0.83")
    # Thu 15 Jun at 102.000: the mark first (10000 x 102.000 / 100 - 10150.00 = +50.00), then the accrual,
    # 10000 x 0.75 / 100 = 75.00, a change of 75.00 - 0.83 = +74.17.
    _day(stream, dt.date(2023, 6, 15), "0.75000000", price="102.000")
    mark, accrual = stream.day_end(dt.date(2023, 6, 15))
    assert mark.kind is JournalKind.MARK_TO_MARKET and accrual.kind is JournalKind.ACCRUAL
    assert legs(mark) == [
        ("Assets:Unrealized:UST-2030", D("50.00"), "USD"),
        ("Income:UnrealizedGains:USD", D("-50.00"), "USD"),
    ]
    assert legs(accrual) == [
        ("Assets:AccruedInterest:USD", D("74.17"), "USD"),
        ("Income:Interest:USD", D("-74.17"), "USD"),
    ]
    assert _carried(stream) == D("75.00")
    # Thu 14 Sep (record date) back at 101.500: 10000 x 1.49166667 / 100 = 149.17.
    _day(stream, dt.date(2023, 9, 14), "1.49166667")
    stream.day_end(dt.date(2023, 9, 14))
    assert _carried(stream) == D("149.17")
    # Fri 15 Sep: coupon 150.00, the accrual 149.17 reversed.
    _day(stream, dt.date(2023, 9, 15), "0")
    stream.cash_flow(dt.date(2023, 9, 15), "coupon", M, "150.00", instrument_id=BOND, quantity="10000")
    stream.day_end(dt.date(2023, 9, 15))
    assert _carried(stream) == 0
    # Over the period the accruals net to 0 (+0.83 +74.17 +74.17 -149.17): the income is the coupon, 150.00.
    assert _interest(stream) - before_period == D("-150.00")
    after_period = _interest(stream)

    # ---- Mon 18 Sep: BUY 5000 more @ 101.500, settle Wed 20 Sep: gross 5075.00; accrued at settle
    # 5000 x 0.04166667 / 100 = 2.0833335 -> 2.08; net 5077.08.
    _day(stream, dt.date(2023, 9, 18), "0.02500000")
    stream.fill(dt.date(2023, 9, 18), "FIL-2", M, BOND, "BUY", "5000", "101.500", gross="5075.00", accrued="2.08",
                net="5077.08", settle=dt.date(2023, 9, 20))  # fmt: skip
    # Day end: 15000 x 0.025 / 100 = 3.75 (the whole position, both lots).
    stream.day_end(dt.date(2023, 9, 18))
    assert _carried(stream) == D("3.75")

    # ---- Tue 17 Oct: SELL 4000 @ 101.500, settle Thu 19 Oct: gross 4060.00 (FIFO cost 4060.00, no gain);
    # accrued at settle 4000 x 0.28333333 / 100 = 11.3333332 -> 11.33 (Cr Income:Interest); net 4071.33.
    _day(stream, dt.date(2023, 10, 17), "0.26666667")
    stream.fill(dt.date(2023, 10, 17), "FIL-3", M, BOND, "SELL", "4000", "101.500", gross="4060.00",
                accrued="11.33", net="4071.33", settle=dt.date(2023, 10, 19))  # fmt: skip
    # Day end on the 11000 left: 11000 x 0.26666667 / 100 = 29.3333337 -> 29.33; change +25.58.
    [accrual] = stream.day_end(dt.date(2023, 10, 17))
    assert legs(accrual)[0] == ("Assets:AccruedInterest:USD", D("25.58"), "USD")
    assert _carried(stream) == D("29.33")

    # ---- Wed 18 Oct: SELL the 11000 left @ 101.500, settle Fri 20 Oct: gross 11165.00 = FIFO cost
    # 6090.00 + 5075.00; accrued 11000 x 0.29166667 / 100 = 32.0833337 -> 32.08; net 11197.08.
    _day(stream, dt.date(2023, 10, 18), "0.27500000")
    stream.fill(dt.date(2023, 10, 18), "FIL-4", M, BOND, "SELL", "11000", "101.500", gross="11165.00",
                accrued="32.08", net="11197.08", settle=dt.date(2023, 10, 20))  # fmt: skip
    assert stream.book.positions(M) == {}
    # Sold out: the target is 0 whatever the quote, so the 29.33 carried is reversed.
    [accrual] = stream.day_end(dt.date(2023, 10, 18))
    assert legs(accrual) == [
        ("Assets:AccruedInterest:USD", D("-29.33"), "USD"),
        ("Income:Interest:USD", D("29.33"), "USD"),
    ]
    assert accrual.postings[0].memo == "UST-2030 no longer held"
    assert _carried(stream) == 0 and stream.book.accrued_interest[M] == {}
    # The part period: accruals net to 0 (+3.75 +25.58 -29.33), so income = sold 11.33 + 32.08 - bought 2.08
    # = 41.33.
    assert _interest(stream) - after_period == D("-41.33")
    # In all: 0.83 + 150.00 + 41.33 = 192.16 of interest (a credit).
    assert _interest(stream) == D("-192.16")
    # A later day end posts nothing for a bond no longer held or carried.
    _day(stream, dt.date(2023, 10, 19), "0.28333333")
    assert stream.day_end(dt.date(2023, 10, 19)) == []

    # Everything balances, journal by journal and in total (M-AVG never traded).
    check(stream)
    assert sum(balances(stream.drafts, M).values()) == 0
    assert {d.mandate_id for d in stream.drafts} == {M}


def test_the_accrual_of_each_bond_is_its_own_leg_pair_and_each_mandate_its_own_journal() -> None:
    stream = Stream(new_book())
    day = dt.date(2023, 6, 15)
    _day(stream, day, "0.75000000")
    # M-FIFO buys 3 face (a quantity that rounds): 3 x 0.75 / 100 = 0.0225 -> 0.02 (half-even).
    stream.fill(day, "FIL-1", "M-FIFO", BOND, "BUY", "3", "101.500", gross="3.04", net="3.04")
    # M-AVG buys 7 face: 7 x 0.75 / 100 = 0.0525 -> 0.05; an equity is never accrued.
    stream.fill(day, "FIL-2", "M-AVG", BOND, "BUY", "7", "101.500", gross="7.10", net="7.10")
    stream.fill(day, "FIL-3", "M-AVG", "US-AAA", "BUY", "10", "50.00", gross="500.00", net="500.00")
    stream.price(day, "US-AAA", "50.00")
    drafts = stream.day_end(day)
    accruals = [d for d in drafts if d.kind is JournalKind.ACCRUAL]
    assert [(d.mandate_id, d.idempotency_key) for d in accruals] == [
        ("M-FIFO", f"mkt:{stream.last_id}:interest:M-FIFO"),
        ("M-AVG", f"mkt:{stream.last_id}:interest:M-AVG"),
    ]
    assert [legs(d) for d in accruals] == [
        [("Assets:AccruedInterest:USD", D("0.02"), "USD"), ("Income:Interest:USD", D("-0.02"), "USD")],
        [("Assets:AccruedInterest:USD", D("0.05"), "USD"), ("Income:Interest:USD", D("-0.05"), "USD")],
    ]
    check(stream)


def test_a_bond_held_without_a_quoted_accrued_keeps_what_it_carries_until_a_quote_has_one() -> None:
    stream = Stream(new_book())
    day1, day2, day3 = dt.date(2023, 6, 15), dt.date(2023, 6, 16), dt.date(2023, 6, 19)
    _day(stream, day1, "0.75000000")
    stream.fill(day1, "FIL-1", M, BOND, "BUY", "10000", "101.500", gross="10150.00", net="10150.00")
    stream.day_end(day1)
    assert _carried(stream) == D("75.00")  # 10000 x 0.75 / 100
    # A primary quote without an accrued figure (market's bond quotes always carry one): no target to
    # move to, so nothing is posted and the 75.00 stays.
    stream.regime(day2)
    stream.price(day2, BOND, "101.500")
    assert stream.day_end(day2) == []
    assert _carried(stream) == D("75.00")
    # The next quote with one (19 Jun, 94 days): 10000 x 0.78333333 / 100 = 78.333333 -> 78.33, a change of +3.33.
    _day(stream, day3, "0.78333333")
    [accrual] = stream.day_end(day3)
    assert legs(accrual)[0] == ("Assets:AccruedInterest:USD", D("3.33"), "USD")
    check(stream)


# ---------------------------------------------------------------- over simulated runs

_MINOR_UNIT = {"USD": D("0.01"), "EUR": D("0.01"), "GBP": D("0.01"), "JPY": D(1)}


def _expected_by_day_end(run: Run) -> Iterator[tuple[MarketEvent, dict[str, dict[str, Decimal]]]]:
    """Each day end with mandate -> bond -> quantity x that day's primary accrued / 100, half-even to the
    minor unit, over the bonds held (trade date), worked out from the events alone."""
    bonds = {i.instrument_id: i.currency for i in run.instruments if priced_per_100(i.asset_class)}
    held: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    today: dict[str, Decimal] = {}
    day = None
    for event in run.events():
        if event.sim_time.date() != day:
            day, today = event.sim_time.date(), {}
        payload = event.payload
        if isinstance(payload, PriceQuote) and payload.vendor == "primary" and payload.instrument_id in bonds:
            assert payload.accrued_interest is not None and payload.price_date == day
            today[payload.instrument_id] = payload.accrued_interest
        elif isinstance(payload, Fill) and payload.instrument_id in bonds:
            sign = 1 if payload.side is Side.BUY else -1
            held[(payload.mandate_id, payload.instrument_id)] += sign * payload.quantity
        elif isinstance(payload, DayEnd):
            expected: dict[str, dict[str, Decimal]] = {m.mandate_id: {} for m in run.mandates}
            for (mandate_id, iid), quantity in held.items():
                if quantity:
                    assert iid in today, (day, iid)  # every bond held is quoted every day
                    value = quantity * today[iid] / 100
                    amount = value.quantize(_MINOR_UNIT[bonds[iid]], rounding=ROUND_HALF_EVEN)
                    if amount:
                        expected[mandate_id][iid] = amount
            yield event, expected


@pytest.mark.parametrize("fault_rate", [0.0, 1.0])
def test_accrued_interest_is_the_quoted_accrued_of_the_bonds_held_at_every_day_end(fault_rate: float) -> None:
    run = simulated_run(7, 60, fault_rate)
    bonds = {i.instrument_id: i.currency for i in run.instruments if priced_per_100(i.asset_class)}
    book = run.book()
    carried: dict[tuple[str, str], Decimal] = defaultdict(Decimal)  # (mandate, account) -> balance
    coupons: list[tuple[str, str]] = []  # (mandate, bond) paid a coupon today
    before: dict[str, dict[str, Decimal]] = {}  # what the book carried at the previous day end
    day_ends = accruing = resets = 0
    expected_at = _expected_by_day_end(run)
    for event in run.events():
        for draft in book.apply(event):
            for posting in draft.postings:
                if posting.account.startswith("Assets:AccruedInterest:"):
                    carried[(draft.mandate_id, posting.account)] += posting.amount
        payload = event.payload
        if isinstance(payload, CashFlow) and payload.kind is CashFlowKind.COUPON:
            coupons.append((payload.mandate_id, payload.instrument_id))
        if not isinstance(payload, DayEnd):
            continue
        day_end, expected = next(expected_at)
        assert day_end is event
        day_ends += 1
        for mandate_id, by_bond in expected.items():
            # The book carries each bond's figure; the account, per currency, their sum.
            assert book.accrued_interest[mandate_id] == by_bond, (payload.date, mandate_id)
            per_currency: dict[str, Decimal] = defaultdict(Decimal)
            for iid, amount in by_bond.items():
                per_currency[f"Assets:AccruedInterest:{bonds[iid]}"] += amount
            ledger = {a: v for (m, a), v in carried.items() if m == mandate_id and v}
            assert ledger == dict(per_currency), (payload.date, mandate_id)
            accruing += bool(by_bond)
        # On its pay date a coupon's accrual is reversed: the quote's accrued restarted after the coupon date.
        for mandate_id, iid in coupons:
            now = book.accrued_interest[mandate_id].get(iid, D(0))
            assert now < before[mandate_id][iid], (payload.date, mandate_id, iid)
            resets += 1
        coupons, before = [], {m: dict(by_bond) for m, by_bond in book.accrued_interest.items()}
    assert day_ends == len(run.days) == 60
    # The run really exercises the rule: bonds held on many mandate-days, coupons paid on them.
    assert accruing > 60 and resets > 0
