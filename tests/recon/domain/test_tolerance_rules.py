"""Tolerance rules: which rule wins (specificity, in either order of the rules), what each selector
matches, the per-direction overrides, and the reasons a rule is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.recon.domain.records import Comparison, Scope
from services.recon.domain.tolerances import (
    EXACT,
    Tolerance,
    ToleranceRule,
    ToleranceRules,
    distinct,
    parse_decimal,
    within,
)

D = Decimal
BVC = Comparison.BOOK_VS_CUSTODIAN
BVL = Comparison.BOOK_VS_LEDGER


def rules_in_both_orders(*records: dict[str, object]) -> list[ToleranceRules]:
    return [ToleranceRules.from_records(records), ToleranceRules.from_records(tuple(reversed(records)))]


def test_an_asset_class_rule_beats_a_currency_rule_whichever_comes_first() -> None:
    # Each rule sets one selector besides the scope: the asset class ranks above the currency.
    for rules in rules_in_both_orders(
        {"scope": "POSITION", "currency": "USD", "absolute": "2"},
        {"scope": "POSITION", "asset_class": "GOVERNMENT_BOND", "absolute": "0.5"},
    ):
        assert rules.lookup(BVC, Scope.POSITION, "GOVERNMENT_BOND", "USD") == Tolerance.symmetric("0.5")
        assert rules.lookup(BVC, Scope.POSITION, "EQUITY", "USD") == Tolerance.symmetric("2")
        assert rules.lookup(BVC, Scope.POSITION, "GOVERNMENT_BOND", "EUR") == Tolerance.symmetric("0.5")
        assert rules.lookup(BVC, Scope.POSITION, "EQUITY", "EUR") == EXACT


def test_a_currency_rule_beats_a_comparison_rule_whichever_comes_first() -> None:
    for rules in rules_in_both_orders(
        {"comparison": "BOOK_VS_LEDGER", "scope": "CASH", "absolute": "3"},
        {"scope": "CASH", "currency": "JPY", "absolute": "100"},
    ):
        assert rules.lookup(BVL, Scope.CASH, "CASH", "JPY") == Tolerance.symmetric("100")
        assert rules.lookup(BVL, Scope.CASH, "CASH", "USD") == Tolerance.symmetric("3")
        assert rules.lookup(BVC, Scope.CASH, "CASH", "USD") == EXACT


def test_a_comparison_rule_beats_a_scope_rule_and_a_scope_rule_beats_a_catch_all() -> None:
    for rules in rules_in_both_orders(
        {"absolute": "9"},
        {"scope": "CASH", "absolute": "1"},
        {"comparison": "BOOK_VS_LEDGER", "absolute": "4"},
    ):
        # BOOK_VS_LEDGER cash: the comparison rule (comparison set) beats the scope rule (scope set)
        assert rules.lookup(BVL, Scope.CASH, "CASH", "USD") == Tolerance.symmetric("4")
        assert rules.lookup(BVC, Scope.CASH, "CASH", "USD") == Tolerance.symmetric("1")
        assert rules.lookup(BVC, Scope.POSITION, "EQUITY", "USD") == Tolerance.symmetric("9")


def test_among_asset_class_rules_a_comparison_rule_beats_a_scope_rule() -> None:
    # Both set the asset class; one adds the scope, the other the comparison, which ranks above the scope.
    for rules in rules_in_both_orders(
        {"scope": "POSITION", "asset_class": "GOVERNMENT_BOND", "absolute": "1"},
        {"comparison": "BOOK_VS_CUSTODIAN", "asset_class": "GOVERNMENT_BOND", "absolute": "2"},
    ):
        assert rules.lookup(BVC, Scope.POSITION, "GOVERNMENT_BOND", "JPY") == Tolerance.symmetric("2")
        assert rules.lookup(BVL, Scope.POSITION, "GOVERNMENT_BOND", "JPY") == Tolerance.symmetric("1")


@pytest.mark.parametrize(
    ("comparison", "scope", "asset_class", "currency", "matches"),
    [
        (BVC, Scope.POSITION, "EQUITY", "USD", True),
        (BVL, Scope.POSITION, "EQUITY", "USD", False),  # another comparison
        (BVC, Scope.CASH, "EQUITY", "USD", False),  # another scope
        (BVC, Scope.POSITION, "CORPORATE_BOND", "USD", False),  # another asset class
        (BVC, Scope.POSITION, "EQUITY", "EUR", False),  # another currency
    ],
)
def test_a_rule_matches_only_when_every_selector_does(
    comparison: Comparison, scope: Scope, asset_class: str, currency: str, matches: bool
) -> None:
    rule = ToleranceRule("BOOK_VS_CUSTODIAN", "POSITION", "EQUITY", "USD", EXACT)
    assert rule.matches(comparison, scope, asset_class, currency) is matches
    assert ToleranceRule("*", "*", "*", "*", EXACT).matches(comparison, scope, asset_class, currency)


def test_specificity_ranks_asset_class_then_currency_then_comparison_then_scope() -> None:
    assert ToleranceRule("*", "*", "EQUITY", "*", EXACT).specificity == (True, False, False, False)
    assert ToleranceRule("*", "*", "*", "USD", EXACT).specificity == (False, True, False, False)
    assert ToleranceRule("BOOK_VS_LEDGER", "*", "*", "*", EXACT).specificity == (False, False, True, False)
    assert ToleranceRule("*", "CASH", "*", "*", EXACT).specificity == (False, False, False, True)


def test_no_rule_at_all_means_exact() -> None:
    assert ToleranceRules(()).lookup(BVC, Scope.CASH, "CASH", "USD") == EXACT
    assert ToleranceRules.from_records([]).lookup(BVC, Scope.POSITION) == EXACT


# ---------------------------------------------------------------- thresholds per direction


def test_direction_overrides_fall_back_to_the_shared_thresholds() -> None:
    (rule,) = ToleranceRules.from_records(
        [
            {
                "scope": "CASH",
                "absolute": "1",
                "relative": "0.1",
                "absolute_below": "2",
                "relative_above": "0.3",
            }
        ]
    ).rules
    # above: absolute 1 (shared), relative 0.3 (override); below: absolute 2 (override), relative 0.1
    assert rule.tolerance == Tolerance(D(1), D("0.3"), D(2), D("0.1"))
    (rule,) = ToleranceRules.from_records(
        [{"scope": "CASH", "absolute_above": "5", "relative_below": "0.2"}]
    ).rules
    assert rule.tolerance == Tolerance(D(5), D(0), D(0), D("0.2"))
    (rule,) = ToleranceRules.from_records([{"scope": "CASH"}]).rules
    assert rule.tolerance == EXACT
    assert (rule.comparison, rule.scope, rule.asset_class, rule.currency) == ("*", "CASH", "*", "*")


def test_thresholds_follow_the_sign_of_the_difference() -> None:
    tolerance = Tolerance(D(1), D("0.1"), D(2), D("0.2"))
    assert tolerance.thresholds(D("0.01")) == (D(1), D("0.1"))  # other above book
    assert tolerance.thresholds(D("-0.01")) == (D(2), D("0.2"))  # other below book
    assert Tolerance.symmetric("1", "0.1").is_symmetric
    assert not Tolerance(D(1), D("0.1"), D(1), D("0.2")).is_symmetric  # relative differs
    assert not Tolerance(D(1), D("0.1"), D(2), D("0.1")).is_symmetric  # absolute differs


def test_relative_below_applies_to_a_shortfall_only() -> None:
    # book 100, relative 0.1 below only: other 90 (-10 = 0.1 x 100) inside, other 110 (+10) outside
    tolerance = Tolerance(relative_below=D("0.1"))
    assert within(D(100), D(90), tolerance)
    assert not within(D(100), D("89.99"), tolerance)
    assert not within(D(100), D(110), tolerance)
    assert within(D(100), D(100), tolerance)


def test_distinct_keeps_first_seen_order() -> None:
    one, two = Tolerance.symmetric("1"), Tolerance.symmetric("2")
    assert distinct([two, one, two, one]) == (two, one)


# ---------------------------------------------------------------- refused rules say why


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([{"scope": "CASH", "absolut": "1"}], r"^tolerance\[0\]: unknown key\(s\) \['absolut'\]$"),
        ([{"scope": "CASH"}, {"scope": "HOLDING"}], r"^tolerance\[1\]\.scope: 'HOLDING' is not one of \["),
        ([{"comparison": "BOOK_VS_BANK"}], r"^tolerance\[0\]\.comparison: 'BOOK_VS_BANK' is not one of"),
        (
            [{"scope": "CASH", "currency": "USD"}, {"scope": "CASH", "currency": "USD"}],
            r"^tolerance\[1\]: a rule",
        ),
        ([{"absolute": 0.01}], r"^tolerance\[0\]\.absolute: write 0\.01 as a string"),
        ([{"relative": "x"}], r"^tolerance\[0\]\.relative: 'x' is not a decimal number$"),
        (
            [{"absolute_above": "-0.01"}],
            r"^tolerance\[0\]\.absolute_above: '-0\.01' must be a finite number >= 0$",
        ),
        ([{"relative_above": "-1"}], r"^tolerance\[0\]\.relative_above: "),
        ([{"absolute_below": "-1"}], r"^tolerance\[0\]\.absolute_below: "),
        ([{"relative_below": "-1"}], r"^tolerance\[0\]\.relative_below: "),
    ],
)
def test_bad_rules_name_the_rule_and_the_key(records: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ToleranceRules.from_records(records)


def test_the_selector_message_lists_the_allowed_values() -> None:
    with pytest.raises(ValueError, match=r"\['CASH', 'CASH_FLOW', 'POSITION', 'TRADE'\] or '\*'$"):
        ToleranceRules.from_records([{"scope": "HOLDING"}])


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.01", D("0.01")), (3, D(3)), (D("0.5"), D("0.5")), ("0", D(0))],
)
def test_exact_thresholds_are_read(value: object, expected: Decimal) -> None:
    assert parse_decimal(value, "here") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "write True as a string"),  # a bool is an int to Python, not a threshold
        (0.5, "floats are not exact"),
        (None, "write None as a string"),
        ("Infinity", "'Infinity' must be a finite number >= 0"),
        ("NaN", "'NaN' must be a finite number >= 0"),
        ("-0.000001", "must be a finite number >= 0"),
        ("1e", "'1e' is not a decimal number"),
    ],
)
def test_inexact_or_negative_thresholds_are_refused(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=f"^here: .*{message}"):
        parse_decimal(value, "here")


def test_an_omitted_asset_class_or_currency_is_the_empty_one() -> None:
    # reconcile and the trade check pass "" for an instrument without reference data; a rule written for
    # exactly that ("" selectors) applies to a lookup that omits them, and to nothing that names one.
    rules = ToleranceRules.from_records(
        [
            {"scope": "POSITION", "asset_class": "", "absolute": "1"},
            {"scope": "CASH", "currency": "", "absolute": "2"},
        ]
    )
    assert rules.lookup(BVC, Scope.POSITION) == Tolerance.symmetric("1")
    assert rules.lookup(BVC, Scope.POSITION, "EQUITY") == EXACT
    assert rules.lookup(BVC, Scope.CASH, "CASH") == Tolerance.symmetric("2")
    assert rules.lookup(BVC, Scope.CASH, "CASH", "USD") == EXACT
