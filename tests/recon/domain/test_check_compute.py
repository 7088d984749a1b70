"""The day-end check (domain/check.py compute) on small hand-worked days: which fills, bookings, flows and
books of which mandates it compares, with the calendar, reference data and valuation it is given; the
lineage trade breaks and unmatched cash flows lend to position and cash differences; the counts and
coverage per mandate and comparison; and which fills it still needs to remember."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from services.common.market_events import Book, PriceQuote
from services.recon.domain.check import (
    Computed,
    LedgerBalance,
    Reference,
    books_of,
    compute,
    valuation_of,
)
from services.recon.domain.config import ReconConfig
from services.recon.domain.followed import FollowedState, KeptBooking, KeptFill, KeptFlow
from services.recon.domain.reconcile import Counts
from services.recon.domain.records import (
    BreakKind,
    Comparison,
    Coverage,
    Difference,
    Outcome,
    Scope,
)
from services.recon.domain.trades import trade_item_key
from tests.recon.builders import CONFIG, REFERENCE, D, M

BVC, BVL, LVC = Comparison.BOOK_VS_CUSTODIAN, Comparison.BOOK_VS_LEDGER, Comparison.LEDGER_VS_CUSTODIAN
EQ = "EQ-EUR"
THU, FRI = dt.date(2024, 3, 7), dt.date(2024, 3, 8)
MON, TUE, WED, THU2 = (dt.date(2024, 3, d) for d in (11, 12, 13, 14))
# The market's business dates: Monday the 11th is a holiday, so Friday + 2 business days is Wednesday
# (plain weekdays would say Tuesday).
HOLIDAY_WEEK = [THU, FRI, TUE, WED]
PLAIN_WEEK = [THU, FRI, MON, TUE, WED]
RECON_REFERENCE = Reference({M: "USD", EQ: "EUR"}, REFERENCE)
PRICES = [
    PriceQuote("AAPL", D("10.00"), "USD", "primary", WED),
    PriceQuote("MSFT", D("20.00"), "USD", "primary", WED),
    PriceQuote("UST-2030", D("99.50"), "USD", "primary", WED),
]


def kept_fill(
    fill_id: str,
    *,
    mandate: str = M,
    instrument: str = "AAPL",
    side: str = "BUY",
    quantity: str = "100",
    price: str = "10.00",
    trade: dt.date = THU,
    settle: dt.date = FRI,
) -> KeptFill:
    net = D(quantity) * D(price) / (100 if instrument == "UST-2030" else 1)
    currency = "EUR" if mandate == EQ else "USD"
    return KeptFill(
        fill_id,
        mandate,
        instrument,
        side,
        D(quantity),
        D(price),
        net,
        currency,
        trade,
        settle,
        f"mkt-{fill_id}",
    )


def booking(
    ref: str, fill: KeptFill, *, quantity: str | None = None, price: str | None = None, settled: bool = False
) -> KeptBooking:
    """The custodian's record of `fill` (as booked unless told otherwise); settled: reported SETTLED."""
    return KeptBooking(
        ref,
        fill.fill_id,
        fill.mandate_id,
        fill.instrument_id,
        fill.side,
        fill.quantity if quantity is None else D(quantity),
        fill.price if price is None else D(price),
        fill.currency,
        fill.trade_date,
        fill.settle_date,
        f"cus-{ref}",
        settled_on=fill.settle_date if settled else None,
        status_event_ids=[f"cus-{ref}-settled"] if settled else [],
    )


def state_of(
    fills: Sequence[KeptFill],
    bookings: Sequence[KeptBooking] = (),
    flows: Sequence[KeptFlow] = (),
    dates: Sequence[dt.date] = PLAIN_WEEK,
) -> FollowedState:
    return FollowedState(
        fills={f.fill_id: f for f in fills},
        bookings={b.custodian_ref: b for b in bookings},
        flows={f.cash_flow_id: f for f in flows},
        dates=list(dates),
    )


def check(
    state: FollowedState,
    internal: Sequence[Book],
    custodian: Sequence[Book],
    ledger: Mapping[str, Sequence[LedgerBalance]] | None = None,
    *,
    today: dt.date = WED,
    config: ReconConfig = CONFIG,
    mandates: frozenset[str] | None = None,
) -> Computed:
    valuation = valuation_of(PRICES, [], RECON_REFERENCE)
    books = books_of(today, internal, custodian, valuation, ledger)
    return compute(state, books, today=today, config=config, reference=RECON_REFERENCE, mandates=mandates)


def by_key(computed: Computed) -> dict[str, Difference]:
    return {d.item_key: d for d in computed.differences}


def coverage(mandate: str, comparison: Comparison, *scopes: Scope) -> set[Coverage]:
    return {Coverage(mandate, comparison, scope) for scope in scopes}


ALL_BVC = (Scope.POSITION, Scope.CASH, Scope.TRADE, Scope.CASH_FLOW)


def test_a_fill_still_settling_is_timing_on_both_comparisons_with_the_states_business_days() -> None:
    """F1 bought 100 AAPL for 1,000.00 on Thursday to settle Friday; the custodian booked it but has not
    settled it by Wednesday. Monday was a holiday, so Friday's settlement is still inside its two business
    days of grace on Wednesday: the position and cash differences are timing items (a check that counted
    plain weekdays would call them breaks). The trade itself is late: a settlement-date break since
    Friday's day end, its parent."""
    f1 = kept_fill("F1")
    state = state_of([f1], [booking("C1", f1)], dates=HOLIDAY_WEEK)
    internal = [Book(M, {"AAPL": D(100)}, {"USD": D("9000.00")})]
    custodian = [Book(M, {}, {"USD": D("10000.00")})]
    # The ledger books the position on trade date, and cash only when the custodian reports it settled.
    ledger = {
        M: [
            LedgerBalance("Assets:Securities:AAPL", D("1000.00"), D(100)),
            LedgerBalance("Assets:Cash:USD", D("10000.00")),
        ]
    }
    computed = check(state, internal, custodian, ledger)
    found = by_key(computed)
    position = found[f"BOOK_VS_CUSTODIAN|POSITION|{M}||AAPL"]
    # custodian 0 - book 100 = -100 units, explained by the pending buy of 100; valued at 10.00 a share
    assert (position.outcome, position.kind, position.quantity_difference) == (
        Outcome.TIMING,
        BreakKind.MISSING_AT_CUSTODIAN,
        D(-100),
    )
    assert (position.currency, position.amount_difference, position.base_amount_difference) == (
        "USD",
        D("-1000.00"),
        D("-1000.00"),
    )
    # grace: Friday + 2 business days = Tuesday (1), Wednesday (2); Monday is not one
    assert (position.fill_id, position.expected_settle_date, position.grace_until) == ("F1", FRI, WED)
    assert position.caused_by == ("mkt-F1", "cus-C1")
    bvc_cash = found[f"BOOK_VS_CUSTODIAN|CASH|{M}||USD"]
    # custodian 10,000.00 - book 9,000.00 = +1,000.00: the payment still to leave
    assert (bvc_cash.outcome, bvc_cash.amount_difference, bvc_cash.grace_until) == (
        Outcome.TIMING,
        D("1000.00"),
        WED,
    )
    bvl_cash = found[f"BOOK_VS_LEDGER|CASH|{M}||USD"]
    assert (bvl_cash.outcome, bvl_cash.amount_difference, bvl_cash.grace_until) == (
        Outcome.TIMING,
        D("1000.00"),
        WED,
    )
    assert bvl_cash.caused_by == ("mkt-F1", "cus-C1")
    late = found[trade_item_key(M, "F1", BreakKind.SETTLEMENT_DATE_MISMATCH)]
    # due Friday; Tuesday and Wednesday are the business days since (Monday is a holiday)
    assert (late.outcome, late.book_date, late.other_date) == (Outcome.BREAK, FRI, None)
    assert late.description == (
        "fill F1 (AAPL BUY 100): custodian C1 has not settled by the contractual settle date 2024-03-08"
        " (2 business day(s) late so far)"
    )
    # the ledger's position agrees with the book, and its cash with the custodian's (neither paid):
    # only these four items differ
    assert len(computed.differences) == 4
    assert [(t.comparison, t.scope) for t in computed.timing_items] == [
        (BVC, Scope.POSITION),
        (BVC, Scope.CASH),
        (BVL, Scope.CASH),
    ]
    assert computed.counts == {
        # AAPL and USD both timing, plus F1's trade, late to settle
        (M, BVC): Counts(compared=3, matched=0, within_tolerance=0, timing=2, breaks=1),
        (M, BVL): Counts(compared=2, matched=1, within_tolerance=0, timing=1, breaks=0),
        (M, LVC): Counts(compared=1, matched=1, within_tolerance=0, timing=0, breaks=0),
    }
    assert computed.covered == (
        coverage(M, BVC, *ALL_BVC)
        | coverage(M, BVL, Scope.POSITION, Scope.CASH)
        | coverage(M, LVC, Scope.CASH)
    )
    assert computed.keep_fills == {"F1"}  # not settled yet


def test_with_plain_weekdays_the_same_settlement_is_past_its_grace() -> None:
    """The counterpart of the holiday case: Friday + 2 business days is Tuesday, so on Wednesday the
    pending settlement no longer explains anything and both items are breaks."""
    f1 = kept_fill("F1")
    state = state_of([f1], [booking("C1", f1)], dates=PLAIN_WEEK)
    computed = check(
        state, [Book(M, {"AAPL": D(100)}, {"USD": D("9000.00")})], [Book(M, {}, {"USD": D("10000.00")})]
    )
    assert [(d.scope, d.outcome) for d in computed.differences] == [
        (Scope.POSITION, Outcome.BREAK),
        (Scope.CASH, Outcome.BREAK),
        (Scope.TRADE, Outcome.BREAK),  # late to settle since Friday
    ]
    assert computed.timing_items == ()
    assert computed.covered == coverage(M, BVC, *ALL_BVC)  # no ledger answer: no book-vs-ledger coverage
    assert not any(d.comparison is BVL for d in computed.differences)


def test_the_ledger_missing_a_trade_date_position_is_a_break_not_timing() -> None:
    """The ledger books positions on trade date, so a fill not yet settled explains no position difference
    against the ledger (it does against the custodian). F2 was traded Wednesday to settle Thursday."""
    f2 = kept_fill("F2", instrument="MSFT", quantity="50", price="20.00", trade=WED, settle=THU2)
    state = state_of([f2], [booking("C2", f2)])
    internal = [Book(M, {"MSFT": D(50)}, {"USD": D("10000.00")})]
    custodian = [Book(M, {}, {"USD": D("10000.00")})]
    ledger = {M: [LedgerBalance("Assets:Cash:USD", D("10000.00"))]}
    found = by_key(check(state, internal, custodian, ledger))
    against_ledger = found[f"BOOK_VS_LEDGER|POSITION|{M}||MSFT"]
    # ledger 0 - book 50 = -50 units, valued at 20.00: -1,000.00 USD
    assert (against_ledger.outcome, against_ledger.kind, against_ledger.quantity_difference) == (
        Outcome.BREAK,
        BreakKind.BOOK_VS_LEDGER_MISMATCH,
        D(-50),
    )
    assert (
        against_ledger.currency,
        against_ledger.amount_difference,
        against_ledger.base_amount_difference,
    ) == (
        "USD",
        D("-1000.00"),
        D("-1000.00"),
    )
    assert against_ledger.ledger_account == "Assets:Securities:MSFT"
    assert found[f"BOOK_VS_CUSTODIAN|POSITION|{M}||MSFT"].outcome is Outcome.TIMING
    # cash moves on Thursday: no cash difference on either side yet
    assert set(found) == {f"BOOK_VS_LEDGER|POSITION|{M}||MSFT", f"BOOK_VS_CUSTODIAN|POSITION|{M}||MSFT"}


def test_trade_breaks_and_unmatched_cash_flows_name_the_events_behind_position_and_cash_breaks() -> None:
    """F2 bought 50 MSFT at 20.00; the custodian booked and settled 60 at 20.05. Its trade breaks name
    the fill and the custodian's trade, and so do the position and cash breaks they cause. The cash break
    also names the dividend paid today that the custodian has not paid yet (CF1), but neither the fee
    paid tomorrow (CF2) nor the fee both sides booked alike (CF3)."""
    f2 = kept_fill("F2", instrument="MSFT", quantity="50", price="20.00", trade=MON, settle=TUE)
    f3 = kept_fill("F3", side="SELL", quantity="10", trade=MON, settle=TUE)
    flows = [
        KeptFlow("CF1", M, "USD", D("12.00"), WED, "mkt-CF1"),
        KeptFlow("CF2", M, "USD", D("-1.00"), THU2, "mkt-CF2"),
        KeptFlow("CF3", M, "USD", D("-3.00"), TUE, "mkt-CF3", D("-3.00"), TUE, "cus-CF3"),
    ]
    state = state_of(
        [f2, f3],
        [booking("C2", f2, quantity="60", price="20.05", settled=True), booking("C3", f3, settled=True)],
        flows,
    )
    # book: 10,000.00 - 1,000.00 (F2) + 100.00 (F3) + 12.00 (CF1) - 3.00 (CF3) = 9,109.00
    # custodian: 10,000.00 - 1,203.00 (60 x 20.05) + 100.00 (F3) - 3.00 (CF3) = 8,894.00
    internal = [Book(M, {"MSFT": D(50), "AAPL": D(90)}, {"USD": D("9109.00")})]
    custodian = [Book(M, {"MSFT": D(60), "AAPL": D(90)}, {"USD": D("8894.00")})]
    # The ledger books both trades and the fee, but not the dividend: 9,109.00 - 12.00 = 9,097.00
    ledger = {
        M: [
            LedgerBalance("Assets:Securities:MSFT", D("1000.00"), D(50)),
            LedgerBalance("Assets:Securities:AAPL", D("900.00"), D(90)),
            LedgerBalance("Assets:Cash:USD", D("9097.00")),
        ]
    }
    computed = check(state, internal, custodian, ledger)
    found = by_key(computed)
    quantity = found[trade_item_key(M, "F2", BreakKind.QUANTITY_MISMATCH)]
    price = found[trade_item_key(M, "F2", BreakKind.PRICE_MISMATCH)]
    assert (quantity.outcome, price.outcome) == (Outcome.BREAK, Outcome.BREAK)
    assert quantity.caused_by == price.caused_by == ("mkt-F2", "cus-C2")
    position = found[f"BOOK_VS_CUSTODIAN|POSITION|{M}||MSFT"]
    # 60 - 50 = +10 units, settled, so nothing pending explains it; valued at 20.00: 200.00
    assert (position.outcome, position.quantity_difference, position.amount_difference) == (
        Outcome.BREAK,
        D(10),
        D("200.00"),
    )
    assert position.caused_by == ("mkt-F2", "cus-C2")  # named once, though both trade breaks name them
    cash_break = found[f"BOOK_VS_CUSTODIAN|CASH|{M}||USD"]
    # 8,894.00 - 9,109.00 = -215.00: the 203.00 F2 cost more, and the 12.00 dividend not yet paid
    assert (cash_break.outcome, cash_break.amount_difference) == (Outcome.BREAK, D("-215.00"))
    assert cash_break.caused_by == ("mkt-F2", "cus-C2", "mkt-CF1")
    # The lineage belongs to the item, so the ledger's cash break (9,097.00 - 9,109.00 = -12.00, the
    # dividend) names the same events.
    ledger_cash = found[f"BOOK_VS_LEDGER|CASH|{M}||USD"]
    assert (ledger_cash.outcome, ledger_cash.amount_difference) == (Outcome.BREAK, D("-12.00"))
    assert ledger_cash.caused_by == ("mkt-F2", "cus-C2", "mkt-CF1")
    # The bank reconciliation: custodian 8,894.00 - ledger 9,097.00 = -203.00, what F2 cost more.
    bank = found[f"LEDGER_VS_CUSTODIAN|CASH|{M}||USD"]
    assert (bank.outcome, bank.kind, bank.amount_difference) == (
        Outcome.BREAK,
        BreakKind.CASH_MISMATCH,
        D("-203.00"),
    )
    assert (bank.book_amount, bank.other_amount, bank.ledger_account) == (
        D("9097.00"),
        D("8894.00"),
        "Assets:Cash:USD",
    )
    assert bank.description == "USD cash: ledger 9,097 vs custodian 8,894"
    assert bank.caused_by == ("mkt-F2", "cus-C2", "mkt-CF1")
    # Cash flows one by one: CF1 paid by the book today, not by the custodian; CF3 alike on both sides
    # (a closing record); CF2 is tomorrow's.
    dividend = found[f"BOOK_VS_CUSTODIAN|CASH_FLOW|{M}|CF1"]
    assert (dividend.outcome, dividend.kind, dividend.amount_difference, dividend.caused_by) == (
        Outcome.BREAK,
        BreakKind.MISSING_AT_CUSTODIAN,
        D("-12.00"),
        ("mkt-CF1",),
    )
    assert found[f"BOOK_VS_CUSTODIAN|CASH_FLOW|{M}|CF3"].outcome is Outcome.MATCHED
    # AAPL agrees; F3 was booked exactly and is settled
    assert set(found) == {
        quantity.item_key,
        price.item_key,
        position.item_key,
        cash_break.item_key,
        ledger_cash.item_key,
        bank.item_key,
        dividend.item_key,
        f"BOOK_VS_CUSTODIAN|CASH_FLOW|{M}|CF3",
    }
    # positions: AAPL matched, MSFT and USD breaks; trades: F3 exact, F2's two breaks; cash flows: CF1 a
    # break, CF3 matched
    assert computed.counts == {
        (M, BVC): Counts(compared=8, matched=3, within_tolerance=0, timing=0, breaks=5),
        (M, BVL): Counts(compared=3, matched=2, within_tolerance=0, timing=0, breaks=1),
        (M, LVC): Counts(compared=1, matched=0, within_tolerance=0, timing=0, breaks=1),
    }
    # F2 is settled but disagrees, so it is kept; F3 is settled and agrees, so it can be forgotten
    assert computed.keep_fills == {"F2"}


def test_a_trade_not_yet_booked_is_timing_through_its_booking_grace_in_business_days() -> None:
    """With a booking grace of 2 business days, a fill traded Friday is due at the custodian on Wednesday
    when Monday is a holiday (Tuesday on plain weekdays): on Tuesday it is a timing item."""
    config = ReconConfig.from_toml("[timing]\nbooking_grace_business_days = 2\n")
    f1 = kept_fill("F1", trade=FRI, settle=WED)
    state = state_of([f1], dates=HOLIDAY_WEEK)
    internal = [Book(M, {"AAPL": D(100)}, {"USD": D("10000.00")})]
    custodian = [Book(M, {}, {"USD": D("10000.00")})]
    computed = check(state, internal, custodian, today=TUE, config=config)
    missing = by_key(computed)[trade_item_key(M, "F1", BreakKind.MISSING_AT_CUSTODIAN)]
    assert (missing.outcome, missing.description) == (
        Outcome.TIMING,
        "fill F1 (AAPL BUY 100): not booked by the custodian by its booking deadline, the day end of"
        " 2024-03-13 (contractual settlement 2024-03-13)",
    )
    # the missing position is timing too (the buy settles Wednesday); both are timing items, the
    # positions' first
    assert [(t.scope, t.fill_id) for t in computed.timing_items] == [
        (Scope.POSITION, "F1"),
        (Scope.TRADE, "F1"),
    ]
    # AAPL timing and USD matched, and the trade timing: nothing matched exactly among the trades
    assert computed.counts == {
        (M, BVC): Counts(compared=3, matched=1, within_tolerance=0, timing=2, breaks=0)
    }
    assert computed.keep_fills == {"F1"}


def test_trade_checks_value_bond_prices_per_100_face_in_the_base_currency() -> None:
    """The trade check is given the reference data (a bond is priced per 100 face) and the valuation
    (the mandate's base currency)."""
    bond = kept_fill("F4", instrument="UST-2030", quantity="25000", price="99.50", trade=MON, settle=TUE)
    state = state_of([bond], [booking("C4", bond, price="99.25", settled=True)])
    # book paid 24,875.00 (25,000 x 99.50 / 100); the custodian 24,812.50 (25,000 x 99.25 / 100)
    internal = [Book(M, {"UST-2030": D(25000)}, {"USD": D("75125.00")})]
    custodian = [Book(M, {"UST-2030": D(25000)}, {"USD": D("75187.50")})]
    found = by_key(check(state, internal, custodian))
    price = found[trade_item_key(M, "F4", BreakKind.PRICE_MISMATCH)]
    assert (price.book_amount, price.other_amount, price.amount_difference) == (
        D("24875.00"),
        D("24812.50"),
        D("-62.50"),
    )
    assert (price.base_currency, price.base_amount_difference) == ("USD", D("-62.50"))
    # the cash difference, 75,187.50 - 75,125.00 = +62.50, names the trade behind it
    assert found[f"BOOK_VS_CUSTODIAN|CASH|{M}||USD"].caused_by == ("mkt-F4", "cus-C4")


def test_a_fill_counts_as_an_exactly_matched_trade_from_its_trade_date_on() -> None:
    """Traded today and booked alike: one exact trade; traded tomorrow: not compared yet. Both are kept
    until they settle."""
    today = kept_fill("F1", trade=WED, settle=THU2)
    tomorrow = kept_fill("F2", trade=THU2, settle=dt.date(2024, 3, 15))
    state = state_of([today, tomorrow], [booking("C1", today), booking("C2", tomorrow)])
    internal = [Book(M, {"AAPL": D(100)}, {"USD": D("10000.00")})]
    custodian = [Book(M, {}, {"USD": D("10000.00")})]
    computed = check(state, internal, custodian)
    # AAPL timing, USD matched; the trades: F1 exact
    assert computed.counts == {
        (M, BVC): Counts(compared=3, matched=2, within_tolerance=0, timing=1, breaks=0)
    }
    assert computed.keep_fills == {"F1", "F2"}


def test_only_the_mandates_asked_for_and_known_to_the_books_are_checked() -> None:
    """An on-demand check of one mandate: another mandate's books, fills and flows are left alone, and a
    mandate no book knows is not covered; the ledger's answer for a mandate not asked for is ignored."""
    eq_fill = kept_fill("F9", mandate=EQ, instrument="SAP", trade=MON, settle=TUE)
    mine = kept_fill("F1", trade=MON, settle=TUE)
    state = state_of(
        [eq_fill, mine],
        [booking("C9", eq_fill), booking("C1", mine, settled=True)],
        [KeptFlow("CF9", EQ, "EUR", D("5.00"), TUE, "mkt-CF9")],
    )
    internal = [Book(M, {"AAPL": D(100)}, {"USD": D("9000.00")}), Book(EQ, {"SAP": D(100)}, {"EUR": D(0)})]
    custodian = [Book(M, {"AAPL": D(100)}, {"USD": D("9000.00")}), Book(EQ, {}, {"EUR": D(7)})]
    ledger = {
        M: [
            LedgerBalance("Assets:Securities:AAPL", D("1000.00"), D(100)),
            LedgerBalance("Assets:Cash:USD", D(9000)),
        ],
        EQ: [LedgerBalance("Assets:Cash:EUR", D(1))],
    }
    computed = check(state, internal, custodian, ledger, mandates=frozenset({M, "GHOST"}))
    assert computed.differences == ()
    assert computed.covered == (
        coverage(M, BVC, *ALL_BVC)
        | coverage(M, BVL, Scope.POSITION, Scope.CASH)
        | coverage(M, LVC, Scope.CASH)
    )
    assert computed.counts == {
        (M, BVC): Counts(compared=3, matched=3, within_tolerance=0, timing=0, breaks=0),
        (M, BVL): Counts(compared=2, matched=2, within_tolerance=0, timing=0, breaks=0),
        (M, LVC): Counts(compared=1, matched=1, within_tolerance=0, timing=0, breaks=0),
    }
    # EQ-EUR's fill was not checked, but it is not settled: it is still remembered
    assert computed.keep_fills == {"F9"}
    # Every mandate of the books, when none is named: EQ-EUR's differences appear
    everything = check(state, internal, custodian, ledger)
    assert {d.mandate_id for d in everything.differences} == {EQ}
    assert {c.mandate_id for c in everything.covered} == {M, EQ}


def test_a_mandate_with_an_empty_book_still_counts_its_trades() -> None:
    """A new mandate holds nothing yet, in either book, but the custodian booked a trade the book has no
    fill for: the run still records that mandate's trade comparison (one break, nothing else compared)."""
    unknown = KeptBooking("C7", "F7", "NEW-USD", "AAPL", "BUY", D(5), D("10.00"), "USD", WED, THU2, "cus-C7")
    state = state_of([], [unknown])
    computed = check(state, [Book("NEW-USD", {}, {})], [Book("NEW-USD", {}, {})])
    (missing,) = computed.differences
    assert (missing.kind, missing.mandate_id) == (BreakKind.MISSING_INTERNALLY, "NEW-USD")
    assert computed.counts == {
        ("NEW-USD", BVC): Counts(compared=1, matched=0, within_tolerance=0, timing=0, breaks=1)
    }
    # the record is in question, so its fill id is remembered
    assert computed.keep_fills == {"F7"}


def test_pending_settlements_lend_their_lineage_the_custodians_failed_report_included() -> None:
    """F1 (due Friday) failed at the custodian on Friday: the position and cash differences, timing
    items inside the grace, name the fill, the custodian's booking and its FAILED report; so does the
    ledger's cash difference, and the bank reconciliation values its difference in the base currency."""
    f1 = kept_fill("F1")
    failed = booking("C1", f1)
    failed.status_event_ids.append("cus-C1-failed")
    failed.failed_on, failed.fail_reason = FRI, "counterparty failed to deliver"
    state = state_of([f1], [failed], dates=HOLIDAY_WEEK)
    internal = [Book(M, {"AAPL": D(100)}, {"USD": D("9000.00")})]
    custodian = [Book(M, {}, {"USD": D("10000.00")})]
    ledger = {
        M: [
            LedgerBalance("Assets:Securities:AAPL", D("1000.00"), D(100)),
            LedgerBalance("Assets:Cash:USD", D("10012.00")),  # 12.00 the bank never saw
        ]
    }
    found = by_key(check(state, internal, custodian, ledger))
    lineage = ("mkt-F1", "cus-C1", "cus-C1-failed")
    assert found[f"BOOK_VS_CUSTODIAN|POSITION|{M}||AAPL"].caused_by == lineage
    assert found[f"BOOK_VS_LEDGER|CASH|{M}||USD"].caused_by == lineage
    late = found[trade_item_key(M, "F1", BreakKind.SETTLEMENT_DATE_MISMATCH)]
    assert late.description.endswith(
        "(2 business day(s) late so far; failed on 2024-03-08: counterparty failed to deliver)"
    )
    bank = found[f"LEDGER_VS_CUSTODIAN|CASH|{M}||USD"]
    assert (bank.amount_difference, bank.base_currency, bank.base_amount_difference) == (
        D("-12.00"),
        "USD",
        D("-12.00"),
    )


def test_cash_flow_differences_are_valued_in_the_base_currency() -> None:
    flows = [KeptFlow("CF1", M, "USD", D("12.00"), WED, "mkt-CF1")]
    found = by_key(
        check(state_of([], flows=flows), [Book(M, {}, {"USD": D(12)})], [Book(M, {}, {"USD": D(0)})])
    )
    dividend = found[f"BOOK_VS_CUSTODIAN|CASH_FLOW|{M}|CF1"]
    assert (dividend.base_currency, dividend.base_amount_difference) == ("USD", D("-12.00"))
