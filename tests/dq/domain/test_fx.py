"""FX checks: crosses against the product of their primary legs, a pair against its inverse, stale
rates. Tolerances 5 bp (at the limit passes); stale from 2 unchanged business days (at fails)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.common.market_events import FxQuote
from services.dq.domain.config import load_checks
from services.dq.domain.fx import FxChecks
from services.dq.domain.results import CheckResult, IssueKind

D = Decimal
DAY = dt.date(2020, 3, 2)


def _fx(pair: str, rate: str, vendor: str = "primary", day: dt.date = DAY) -> FxQuote:
    return FxQuote(pair[:3], pair[3:], D(rate), vendor, day)


def _rule(results: list[CheckResult], rule: str) -> CheckResult:
    [result] = [r for r in results if r.rule == rule]
    return result


def _legs(checks: FxChecks, day: dt.date = DAY) -> None:
    for event, pair, rate in (
        ("e-1", "EURUSD", "1.1000"),
        ("e-2", "GBPUSD", "1.3000"),
        ("e-3", "USDJPY", "110.00"),
    ):
        checks.rate(event, _fx(pair, rate, day=day))


@pytest.mark.parametrize(
    ("rate", "success"),
    [
        # EURJPY = EURUSD x USDJPY = 1.1000 x 110.00 = 121.000000; 5 bp of it is 0.0605.
        ("121.000000", True),
        ("121.060500", True),  # +0.0605: exactly at the limit, passes
        ("120.939500", True),  # -0.0605
        ("121.060600", False),  # +0.0606 > 0.0605
        ("120.939400", False),
        ("121.605000", False),  # +0.5 %: market's smallest cross fault
    ],
)
def test_a_cross_against_the_product_of_its_legs(rate: str, success: bool) -> None:
    checks = FxChecks(load_checks())
    _legs(checks)
    result = _rule(checks.rate("e-5", _fx("EURJPY", rate, "cross")), "triangulation")
    assert result.success is success
    assert result.quarantine is not success
    assert result.kind is IssueKind.FX_TRIANGULATION and result.currency_pair == "EURJPY"
    assert result.reference == D("121.0000000000")
    assert result.deviation == pytest.approx(float(D(rate) / D(121) - 1))
    assert result.caused_by == ("e-5", "e-1", "e-3")


def test_a_cross_of_two_usd_quoted_legs_divides_them() -> None:
    # EURGBP = EURUSD / GBPUSD = 1.1000 / 1.3000 = 0.846153846...; market publishes it rounded to
    # 6 decimals (0.846154, 0.18 ppm off): well inside 5 bp.
    checks = FxChecks(load_checks())
    _legs(checks)
    result = _rule(checks.rate("e-4", _fx("EURGBP", "0.846154", "cross")), "triangulation")
    assert result.success
    assert result.reference == D("0.8461538462")
    assert result.message == "EURGBP cross 0.846154 vs 0.846154 from EURUSD x USDGBP (+0.0000%)"
    distorted = _rule(checks.rate("e-6", _fx("EURGBP", "0.860000", "cross")), "triangulation")
    assert not distorted.success
    assert distorted.message == "EURGBP cross 0.860000 vs 0.846154 from EURUSD x USDGBP (+1.6%)"


def test_a_cross_before_its_legs_is_not_triangulated() -> None:
    checks = FxChecks(load_checks())
    assert [r.rule for r in checks.rate("e-1", _fx("EURJPY", "121.00", "cross"))] == ["stale"]


@pytest.mark.parametrize(
    ("inverse", "success"), [("0.909091", True), ("0.909545", True), ("0.910000", False)]
)
def test_a_pair_against_its_inverse(inverse: str, success: bool) -> None:
    # 1.1000 x 0.909091 = 1.0000001; x 0.909545 = 1.0004995 (inside 5 bp); x 0.91 = 1.001 (10 bp).
    checks = FxChecks(load_checks())
    _legs(checks)
    result = _rule(checks.rate("e-7", _fx("USDEUR", inverse)), "inverse")
    assert result.success is success
    assert result.kind is IssueKind.FX_INVERSE
    assert result.deviation == pytest.approx(float(D("1.1000") * D(inverse) - 1))
    assert result.caused_by == ("e-7", "e-1")


def test_a_rate_unchanged_for_two_business_days_is_stale() -> None:
    checks = FxChecks(load_checks())
    verdicts = []
    for k, rate in enumerate(("1.1000", "1.1000", "1.1000", "1.1010")):
        result = _rule(checks.rate(f"e-{k}", _fx("EURUSD", rate, day=DAY + dt.timedelta(days=k))), "stale")
        verdicts.append((result.success, result.stale_business_days))
    # One repeat (FRED's fixings repeat on about 1 % of days) passes; two fail; a move clears it.
    assert verdicts == [(True, 0), (True, 1), (False, 2), (True, 0)]


def test_state_round_trips_mid_day() -> None:
    first, second = FxChecks(load_checks()), FxChecks(load_checks())
    _legs(first)
    second.restore(first.to_json())
    quote = _fx("EURJPY", "121.7", "cross")
    assert first.rate("e-9", quote) == second.rate("e-9", quote)
