"""Tolerances: exact edges, both signs, absolute and relative, and the configuration that holds them."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.recon.domain.columns import ToleranceColumns, to_scaled
from services.recon.domain.config import ReconConfig, default_text
from services.recon.domain.records import Comparison, Scope
from services.recon.domain.tolerances import Tolerance, ToleranceRules, within

D = Decimal
BVC = Comparison.BOOK_VS_CUSTODIAN


@pytest.mark.parametrize(
    ("other", "inside"),
    [
        ("100.05", True),  # at the edge: +0.05
        ("100.04", True),  # just inside
        ("100.06", False),  # just outside
        ("99.95", True),  # at the edge, other below book
        ("99.96", True),
        ("99.94", False),
        ("100.050000001", False),  # a hair beyond the edge: exact, no float rounding
    ],
)
def test_absolute_edge_both_signs(other: str, inside: bool) -> None:
    assert within(D("100.00"), D(other), Tolerance.symmetric("0.05")) is inside


@pytest.mark.parametrize(
    ("other", "inside"),
    [
        # relative 0.0001 of |book| 1,000,000 = 100
        ("1000100", True),
        ("1000099", True),
        ("1000101", False),
        ("999900", True),
        ("999901", True),
        ("999899", False),
    ],
)
def test_relative_edge_both_signs(other: str, inside: bool) -> None:
    assert within(D(1_000_000), D(other), Tolerance.symmetric("0", "0.0001")) is inside


def test_relative_is_measured_against_the_book_so_a_missing_book_gets_only_the_absolute() -> None:
    tolerance = Tolerance.symmetric("1", "0.5")
    assert within(D(0), D(1), tolerance)
    assert not within(D(0), D(2), tolerance)  # 50 % of a zero book is zero
    assert within(D(-10), D(-15), tolerance)  # |book| = 10, 50 % = 5: at the edge


def test_asymmetric_tolerance_uses_the_direction_of_the_difference() -> None:
    tolerance = Tolerance(absolute_above=D(5), absolute_below=D(1))
    assert within(D(100), D(105), tolerance)
    assert not within(D(100), D(94), tolerance)
    assert within(D(100), D(99), tolerance)
    assert not tolerance.is_symmetric


def test_zero_tolerance_means_exact() -> None:
    assert within(D("10"), D("10.000"), Tolerance())
    assert not within(D("10"), D("10.000001"), Tolerance())


def test_rules_pick_the_most_specific_and_default_to_exact() -> None:
    rules = ToleranceRules.from_records(
        [
            {"scope": "CASH", "absolute": "1"},
            {"scope": "CASH", "currency": "JPY", "absolute": "100"},
            {"scope": "POSITION", "asset_class": "GOVERNMENT_BOND", "absolute": "0.5"},
            {"comparison": "BOOK_VS_LEDGER", "scope": "CASH", "currency": "JPY", "absolute": "0"},
        ]
    )
    assert rules.lookup(BVC, Scope.CASH, "CASH", "USD") == Tolerance.symmetric("1")
    assert rules.lookup(BVC, Scope.CASH, "CASH", "JPY") == Tolerance.symmetric("100")
    assert rules.lookup(Comparison.BOOK_VS_LEDGER, Scope.CASH, "CASH", "JPY") == Tolerance.symmetric("0")
    assert rules.lookup(BVC, Scope.POSITION, "GOVERNMENT_BOND", "USD") == Tolerance.symmetric("0.5")
    assert rules.lookup(BVC, Scope.POSITION, "EQUITY", "USD") == Tolerance()


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"scope": "CASH", "absolute": 0.01}, "floats are not exact"),
        ({"scope": "CASH", "absolute": "-1"}, ">= 0"),
        ({"scope": "CASH", "absolut": "1"}, "unknown key"),
        ({"scope": "HOLDING"}, "is not one of"),
        ({"scope": "CASH", "relative": "abc"}, "not a decimal"),
    ],
)
def test_bad_rules_are_refused_with_the_reason(record: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ToleranceRules.from_records([record])


def test_duplicate_selectors_are_refused() -> None:
    with pytest.raises(ValueError, match="already defined"):
        ToleranceRules.from_records([{"scope": "CASH"}, {"scope": "CASH", "absolute": "2"}])


def test_default_config_ships_with_the_package_and_reads_as_documented() -> None:
    config = ReconConfig.default()
    assert config.tolerances.lookup(BVC, Scope.POSITION, "EQUITY", "USD") == Tolerance()
    assert config.tolerances.lookup(BVC, Scope.POSITION, "CORPORATE_BOND", "EUR") == Tolerance.symmetric(
        "0.5"
    )
    assert config.tolerances.lookup(BVC, Scope.CASH, "CASH", "USD") == Tolerance.symmetric("0.05")
    assert config.tolerances.lookup(BVC, Scope.CASH, "CASH", "JPY") == Tolerance.symmetric("5")
    assert [b.label for b in config.aging.buckets] == ["0-1", "2-3", "4-7", "8+"]
    assert config.settlement_grace_business_days == 2
    assert config.booking_grace_business_days == 0
    assert config.suspense_cash_age_business_days == 3
    # Every key of the shipped file is explained by a comment somewhere in it.
    text = default_text()
    for key in (
        "settlement_grace_business_days",
        "price_relative",
        "sla_by_kind",
        "amount_threshold",
        "relative_below",
    ):
        assert f"{key}" in text


def test_json_config_reads_the_same_as_toml() -> None:
    data = {
        "tolerance": [{"scope": "CASH", "currency": "USD", "absolute": "0.05"}],
        "timing": {"settlement_grace_business_days": 1},
        "escalation": {"sla_business_days": 4, "amount_threshold": {"*": "10"}},
    }
    config = ReconConfig.from_json(json.dumps(data))
    assert config.settlement_grace_business_days == 1
    assert config.escalation.sla_business_days == 4
    assert config.escalation.threshold_for("USD") == D(10)
    assert config.tolerances.lookup(BVC, Scope.CASH, "CASH", "USD") == Tolerance.symmetric("0.05")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[timing]\nsettlement_grace = 2\n", "unknown key"),
        ("[timing]\nsettlement_grace_business_days = -1\n", "whole number"),
        ("[escalation.sla_by_kind]\nCASH_MISSMATCH = 3\n", "unknown break kind"),
        (
            '[[aging.bucket]]\nlabel = "0-1"\nmin = 0\nmax = 1\n[[aging.bucket]]\nlabel = "3+"\nmin = 3\n',
            "expected 2",
        ),
        ('[[aging.bucket]]\nlabel = "0-1"\nmin = 0\nmax = 1\n', "open-ended"),
    ],
)
def test_bad_config_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReconConfig.from_toml(text)


decimals = st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False, allow_infinity=False)
thresholds = st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False, allow_infinity=False)
fractions = st.sampled_from(["0", "0.0001", "0.001", "0.05", "0.123456789", "1", "2.5"])


@given(
    rows=st.lists(st.tuples(decimals, decimals), min_size=1, max_size=30),
    absolute=thresholds,
    relative=fractions,
    below=thresholds,
)
def test_vectorised_tolerance_agrees_with_decimal_within(
    rows: list[tuple[Decimal, Decimal]], absolute: Decimal, relative: str, below: Decimal
) -> None:
    tolerance = Tolerance(absolute, D(relative), below, D(relative) / 2)
    columns = ToleranceColumns.build([tolerance])
    book = np.array([to_scaled(b) for b, _ in rows], dtype=np.int64)
    other = np.array([to_scaled(o) for _, o in rows], dtype=np.int64)
    got = columns.within(book, other - book, np.zeros(len(rows), dtype=np.int64))
    assert got.tolist() == [within(b, o, tolerance) for b, o in rows]
