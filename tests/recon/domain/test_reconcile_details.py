"""reconcile's records in detail: item keys, ledger accounts, descriptions per comparison, the tolerance
reported, counts per mandate, timing items with their earliest settlement and grace, lineage, and the
valuation of a difference in its currency and the mandate's base currency."""

from __future__ import annotations

import datetime as dt
import hashlib

from services.recon.domain.aging import BusinessCalendar
from services.recon.domain.config import ReconConfig
from services.recon.domain.reconcile import (
    Counts,
    item_key_text,
    ledger_account,
    reconcile,
    value_of,
)
from services.recon.domain.records import (
    BreakKind,
    Comparison,
    ItemKey,
    Outcome,
    PendingSettlement,
    Scope,
    Valuation,
)
from tests.recon.builders import CONFIG, REFERENCE, D, M, cash, pos

BVC, BVL, CVB = Comparison.BOOK_VS_CUSTODIAN, Comparison.BOOK_VS_LEDGER, Comparison.CONFIRMATION_VS_BOOK
FRI = dt.date(2024, 3, 8)
MON, TUE, WED, THU = (dt.date(2024, 3, d) for d in (11, 12, 13, 14))
WEEKDAYS = BusinessCalendar()


def check(book: object, other: object, **kwargs: object):  # type: ignore[no-untyped-def]
    kwargs.setdefault("comparison", BVC)
    kwargs.setdefault("today", FRI)
    kwargs.setdefault("config", CONFIG)
    return reconcile(book, other, calendar=WEEKDAYS, reference=REFERENCE, **kwargs)  # type: ignore[arg-type]


def settling(
    fill_id: str, settle: dt.date, quantity: str | None = None, amount: str | None = None, account: str = ""
) -> PendingSettlement:
    return PendingSettlement(
        M,
        fill_id,
        "AAPL",
        "USD",
        settle,
        None if quantity is None else D(quantity),
        None if amount is None else D(amount),
        (f"mkt-{fill_id}",),
        account,
    )


def test_item_keys_and_ledger_accounts() -> None:
    assert item_key_text(BVC, pos("AAPL")) == f"BOOK_VS_CUSTODIAN|POSITION|{M}||AAPL"
    assert item_key_text(BVL, ItemKey(M, Scope.CASH, currency="EUR", account="SUB")) == (
        f"BOOK_VS_LEDGER|CASH|{M}|SUB|EUR"
    )
    assert ledger_account(pos("AAPL")) == "Assets:Securities:AAPL"
    assert ledger_account(cash("EUR")) == "Assets:Cash:EUR"


def test_descriptions_name_the_other_book_and_cash_by_currency() -> None:
    book, other = (
        {cash("USD"): D("1000.00"), pos("AAPL"): D(1500)},
        {cash("USD"): D(990), pos("AAPL"): D(1000)},
    )
    for comparison, name in ((BVC, "custodian"), (BVL, "ledger"), (CVB, "confirmation")):
        result = check(book, other, comparison=comparison)
        assert [d.description for d in result.differences] == [
            f"USD cash: book 1,000 vs {name} 990",
            f"AAPL: book 1,500 vs {name} 1,000",
        ]
        assert [d.ledger_account for d in result.differences] == (
            ["Assets:Cash:USD", "Assets:Securities:AAPL"] if comparison is BVL else ["", ""]
        )
        assert all(d.comparison is comparison for d in result.differences)
    assert check(book, other).as_of_date == FRI


def test_the_tolerance_applied_is_reported_for_the_direction_of_the_difference() -> None:
    config = ReconConfig.from_mapping(
        {"tolerance": [{"scope": "CASH", "currency": "USD", "absolute_above": "1", "absolute_below": "2"}]}
    )
    result = check(
        {cash("USD"): D(100), cash("EUR"): D(5)}, {cash("USD"): D(99), cash("EUR"): D(6)}, config=config
    )
    usd, eur = result.differences
    assert (usd.outcome, usd.tolerance_absolute, usd.tolerance_relative) == (
        Outcome.WITHIN_TOLERANCE,
        D(2),
        D(0),
    )
    assert (eur.outcome, eur.tolerance_absolute) == (Outcome.BREAK, D(0))  # no EUR rule: exact
    up = check({cash("USD"): D(100)}, {cash("USD"): D(102)}, config=config).differences[0]
    assert (up.outcome, up.tolerance_absolute) == (Outcome.BREAK, D(1))


def test_a_position_takes_the_currency_of_its_instrument() -> None:
    config = ReconConfig.from_mapping(
        {"tolerance": [{"scope": "POSITION", "currency": "EUR", "absolute": "1"}]}
    )
    result = check(
        {pos("SAP"): D(10), pos("AAPL"): D(10)}, {pos("SAP"): D(11), pos("AAPL"): D(11)}, config=config
    )
    assert [(d.instrument_id, d.currency, d.outcome) for d in result.differences] == [
        ("SAP", "EUR", Outcome.WITHIN_TOLERANCE),
        ("AAPL", "USD", Outcome.BREAK),
    ]
    # cash keys count as asset class CASH: a rule for that asset class applies to them
    cash_rule = ReconConfig.from_mapping({"tolerance": [{"asset_class": "CASH", "absolute": "3"}]})
    (within,) = check({cash("GBP"): D(10)}, {cash("GBP"): D(13)}, config=cash_rule).differences
    assert within.outcome is Outcome.WITHIN_TOLERANCE
    (unknown,) = check({pos("XYZ"): D(10)}, {pos("XYZ"): D(13)}, config=cash_rule).differences
    assert (unknown.outcome, unknown.currency) == (Outcome.BREAK, "")


def test_counts_per_mandate() -> None:
    book = {
        pos("AAPL"): D(10),
        pos("MSFT"): D(5),
        cash("USD"): D(100),
        pos("AAPL", "M2"): D(1),
        cash("JPY", "M2"): D(1000),
    }
    other = {pos("AAPL"): D(10), pos("MSFT"): D(4), cash("USD"): D("100.05"), cash("JPY", "M2"): D(1000)}
    pending = [PendingSettlement("M2", "F1", "AAPL", "USD", FRI, D(1), None)]
    result = check(book, other, pending=pending)
    # M: AAPL matched, MSFT break, USD within tolerance; M2: AAPL timing (a pending buy of 1), JPY matched
    assert result.counts == {
        M: Counts(compared=3, matched=2, within_tolerance=1, timing=0, breaks=1),
        "M2": Counts(compared=2, matched=1, within_tolerance=0, timing=1, breaks=0),
    }
    assert [d.mandate_id for d in result.breaks] == [M]
    assert [d.mandate_id for d in result.with_outcome(Outcome.TIMING)] == ["M2"]
    assert result.duplicates == ()


def test_a_timing_item_names_its_earliest_settlement_and_grace() -> None:
    pending = [settling("F1", TUE, "60"), settling("F2", MON, "40")]
    (timing,) = check({pos("AAPL"): D(100)}, {}, pending=pending, today=MON).timing_items
    # grace 2 business days: Mon -> Wed, Tue -> Thu; the earliest of each
    assert (timing.expected_settle_date, timing.grace_until) == (MON, WED)
    assert timing.fill_id == ""  # two fills
    assert timing.caused_by == ("mkt-F1", "mkt-F2")
    assert timing.quantity_difference == D(-100) and timing.amount_difference is None
    digest = hashlib.sha256(f"BOOK_VS_CUSTODIAN|POSITION|{M}||AAPL".encode()).hexdigest()[:16]
    assert timing.item_id == f"TIM-{digest}"
    assert (timing.mandate_id, timing.comparison, timing.scope, timing.instrument_id, timing.currency) == (
        M,
        BVC,
        Scope.POSITION,
        "AAPL",
        "USD",
    )


def test_an_expired_settlement_no_longer_dates_a_timing_item_but_stays_in_the_lineage() -> None:
    # F1 settled Friday (grace until Tuesday), F2 settles Wednesday (grace until Friday): on Wednesday only
    # F2 explains, and it covers the 40 missing on its own.
    pending = [settling("F1", FRI, "60"), settling("F2", WED, "40")]
    (difference,) = check({pos("AAPL"): D(100)}, {pos("AAPL"): D(60)}, pending=pending, today=WED).differences
    assert difference.outcome is Outcome.TIMING
    assert (difference.fill_id, difference.expected_settle_date) == ("F2", WED)
    assert difference.grace_until == dt.date(2024, 3, 15)
    assert difference.caused_by == ("mkt-F1", "mkt-F2")


def test_lineage_starts_with_the_callers_events_without_repeats() -> None:
    pending = [settling("F1", MON, "100")]
    caused_by = {pos("AAPL"): ("mkt-F1", "cus-9")}
    (difference,) = check({pos("AAPL"): D(100)}, {}, pending=pending, caused_by=caused_by).differences
    assert difference.caused_by == ("mkt-F1", "cus-9")


def test_pending_settlements_of_a_sub_account_explain_that_account() -> None:
    key = ItemKey(M, Scope.CASH, currency="USD", account="SUB")
    (difference,) = check(
        {key: D(-500)}, {}, pending=[settling("F1", MON, amount="-500", account="SUB")]
    ).differences
    assert (difference.outcome, difference.account) == (Outcome.TIMING, "SUB")
    (plain,) = check(
        {cash("USD"): D(-500)}, {}, pending=[settling("F1", MON, amount="-500", account="SUB")]
    ).differences
    assert plain.outcome is Outcome.BREAK


def test_values_of_a_difference() -> None:
    valuation = Valuation({"SAP": D("120.505")}, {("EUR", "USD"): D("1.1")}, {M: "USD", "M3": "EUR"})
    # a cash difference is its own amount, in base if the currency is the base
    assert value_of(M, "", "USD", D("-5.5"), False, valuation) == (D("-5.5"), "USD", D("-5.5"))
    # 3 x 120.505 = 361.515 -> 361.52 EUR (cents, half even); x 1.1 = 397.672 -> 397.67 USD
    assert value_of(M, "SAP", "EUR", D(3), True, valuation) == (D("361.52"), "USD", D("397.67"))
    assert value_of("M3", "SAP", "EUR", D(3), True, valuation) == (D("361.52"), "EUR", D("361.52"))
    # no unit value: no amount; no rate: no base amount; no base currency: none either
    assert value_of(M, "AAPL", "USD", D(3), True, valuation) == (None, "USD", None)
    assert value_of(M, "", "GBP", D(3), False, valuation) == (D(3), "USD", None)
    assert value_of("M9", "", "USD", D(3), False, valuation) == (D(3), "", None)
    assert value_of(M, "SAP", "EUR", D(3), True, None) == (None, "", None)
    assert value_of(M, "", "USD", D(3), False, None) == (D(3), "", None)


def test_a_partly_explained_cash_break_is_valued_on_its_remainder() -> None:
    valuation = Valuation({}, {}, {M: "USD"})
    pending = [settling("F1", MON, amount="-150")]
    (difference,) = check(
        {cash("USD"): D(300)}, {cash("USD"): D(100)}, pending=pending, valuation=valuation
    ).differences
    # other - book = -200; a pending payment of 150 would explain +150, and |-200 - 150| = 350 is further
    # from zero than 200: not used, so the break is the raw -200
    assert (difference.outcome, difference.amount_difference, difference.explained_difference) == (
        Outcome.BREAK,
        D(-200),
        None,
    )
    explained = [settling("F1", MON, amount="150")]
    (part,) = check(
        {cash("USD"): D(300)}, {cash("USD"): D(100)}, pending=explained, valuation=valuation
    ).differences
    # a pending receipt of 150 explains -150: -50 remains, and that is what is valued
    assert (part.amount_difference, part.explained_difference, part.base_amount_difference) == (
        D(-50),
        D(-150),
        D(-50),
    )
    assert part.kind is BreakKind.CASH_MISMATCH
    assert (
        part.description
        == "USD cash: book 300 vs custodian 100 (-150 explained by pending settlements, -50 not)"
    )


def test_a_pending_settlement_of_a_sub_account_explains_that_accounts_position() -> None:
    sub = ItemKey(M, Scope.POSITION, instrument_id="AAPL", account="SUB")
    pending = [settling("F1", MON, quantity="100", account="SUB")]
    (difference,) = check({sub: D(100)}, {}, pending=pending).differences
    assert (difference.outcome, difference.account) == (Outcome.TIMING, "SUB")
    # the mandate's main account holds the same units without a pending settlement: a break
    (plain,) = check({pos("AAPL"): D(100)}, {}, pending=pending).differences
    assert plain.outcome is Outcome.BREAK


def test_positions_carry_quantities_and_cash_carries_amounts_only() -> None:
    result = check({pos("AAPL"): D(10), cash("USD"): D("100.00")}, {pos("AAPL"): D(7), cash("USD"): D(90)})
    assert result.comparison is BVC
    units, money = result.differences  # in the order the keys were first seen
    assert (money.book_amount, money.other_amount, money.amount_difference) == (D(100), D(90), D(-10))
    assert (money.book_quantity, money.other_quantity, money.quantity_difference) == (None, None, None)
    assert (units.book_quantity, units.other_quantity, units.quantity_difference) == (D(10), D(7), D(-3))
    # no valuation given: the units have no amount
    assert (units.book_amount, units.other_amount, units.amount_difference) == (None, None, None)
    assert check({}, {}, comparison=BVL).comparison is BVL


def test_a_coarser_scale_gives_the_same_records() -> None:
    """reconcile(scale=2) works in cents throughout: the books, the pending settlements and the
    tolerances are all scaled alike, and the figures come back unscaled."""
    book = {cash("USD"): D("1000.00"), cash("EUR"): D("50.00"), pos("AAPL"): D(100)}
    other = {cash("USD"): D("999.96"), cash("EUR"): D("50.06"), pos("AAPL"): D(40)}
    pending = [settling("F1", MON, quantity="60")]
    default, cents = (check(book, other, pending=pending, **scale) for scale in ({}, {"scale": 2}))
    assert cents.differences == default.differences
    # USD -0.04 is within its 0.05; EUR +0.06 is beyond; AAPL -60 is explained by the pending buy of 60
    assert [(d.currency, d.outcome, d.book_amount, d.other_amount) for d in cents.differences[:2]] == [
        ("USD", Outcome.WITHIN_TOLERANCE, D(1000), D("999.96")),
        ("EUR", Outcome.BREAK, D(50), D("50.06")),
    ]
    assert cents.differences[2].outcome is Outcome.TIMING
    assert cents.counts == default.counts


def test_a_tolerance_rule_for_one_comparison_applies_to_that_comparison_only() -> None:
    config = ReconConfig.from_mapping(
        {"tolerance": [{"comparison": "BOOK_VS_LEDGER", "scope": "CASH", "absolute": "1"}]}
    )
    book, other = {cash("USD"): D(100)}, {cash("USD"): D(101)}
    (ledger,) = check(book, other, comparison=BVL, config=config).differences
    assert (ledger.outcome, ledger.tolerance_absolute) == (Outcome.WITHIN_TOLERANCE, D(1))
    (custodian,) = check(book, other, config=config).differences
    assert (custodian.outcome, custodian.tolerance_absolute) == (Outcome.BREAK, D(0))


def test_a_cash_timing_item_carries_its_amount() -> None:
    (timing,) = check({cash("USD"): D(-500)}, {}, pending=[settling("F1", MON, amount="-500")]).timing_items
    # custodian 0 - book -500 = +500, explained by the pending payment of 500
    assert (timing.amount_difference, timing.quantity_difference) == (D(500), None)


def test_units_without_a_unit_value_have_no_amount_even_where_a_rate_is_known() -> None:
    valuation = Valuation({}, {("EUR", "USD"): D("1.1")}, {M: "USD"})
    assert value_of(M, "SAP", "EUR", D(3), True, valuation) == (None, "USD", None)
