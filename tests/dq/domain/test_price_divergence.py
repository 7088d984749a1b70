"""vendor_divergence: a vendor's price against the primary's, and which vendor dq blames.

Tolerance in these tests: 0.5 % of the primary price or one tick, whichever is larger; a
difference exactly at the limit passes (|vendor - primary| > limit fails).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.dq.domain.results import IssueKind, Severity
from tests.dq.domain.builders import PriceDays, equity, failures, only, quote

D = Decimal
DIV = "price.vendor_divergence"
SUBJECT = "US-A"
PEERS = ("US-B", "US-C", "US-D")


@pytest.mark.parametrize(
    ("vendor_b", "success"),
    [
        ("100.00", True),  # equal
        ("100.30", True),  # inside: 0.30 < 0.50
        ("100.50", True),  # exactly at the limit 0.5 % x 100.00 = 0.50: passes
        ("99.50", True),  # at the limit below
        ("100.51", False),  # outside: 0.51 > 0.50
        ("99.49", False),
    ],
)
def test_tolerance_is_half_a_percent_of_the_primary(vendor_b: str, success: bool) -> None:
    days = PriceDays([equity(SUBJECT)])
    days.run({SUBJECT: "100.00"}, {SUBJECT: vendor_b})
    result = only(days.last, DIV, SUBJECT, "vendor_b")
    assert result.success is success
    assert result.kind is IssueKind.PRICE_VENDOR_MISMATCH
    assert result.observed == D(vendor_b) and result.reference == D("100.00")
    assert result.threshold == pytest.approx(0.005)
    assert result.deviation == pytest.approx(float(D(vendor_b) / D("100.00") - 1))
    assert result.caused_by == (f"v-{SUBJECT}-{days.day}", f"p-{SUBJECT}-{days.day}")


@pytest.mark.parametrize(("vendor_b", "success"), [("1.01", True), ("0.99", True), ("1.02", False)])
def test_one_tick_is_never_a_divergence(vendor_b: str, success: bool) -> None:
    # A 1.00 stock: 0.5 % is half a cent, below its 0.01 tick; the limit is one tick (0.01).
    days = PriceDays([equity("US-LOW")])
    days.run({"US-LOW": "1.00"}, {"US-LOW": vendor_b})
    result = only(days.last, DIV, "US-LOW", "vendor_b")
    assert result.success is success
    assert result.threshold == pytest.approx(0.01)


def _history() -> PriceDays:
    """Seven days: the subject alternates 100.00 / 101.00, its three peers stay at 50.00.

    Net of peers (median move 0) its log returns alternate +ln(1.01) = +0.00995 and -0.00995:
    six returns, median 0, MAD 0.00995, so its robust scale is 1.4826 x 0.00995 = 0.01475
    (above the 1 % floor); the regime's 16 % volatility makes the regime factor exactly 1.
    The last day leaves both vendors at 100.00.
    """
    days = PriceDays([equity(SUBJECT), *(equity(p) for p in PEERS)])
    for k in range(7):
        days.run({SUBJECT: "100.00" if k % 2 == 0 else "101.00", **{p: "50.00" for p in PEERS}})
    assert failures(days.results) == []
    return days


def test_vendor_b_is_blamed_when_its_return_is_the_spike() -> None:
    days = _history()
    # primary 101.00: +0.995 %, z = 0.00995 / 0.01475 = 0.67
    # vendor_b 115.00: ln(1.15) = 0.13976, z = 0.13976 / 0.01475 = 9.47 > 8: a spike
    days.run(
        {SUBJECT: "101.00", **{p: "50.00" for p in PEERS}}, {SUBJECT: "115.00", **{p: "50.00" for p in PEERS}}
    )
    vendor_b = only(days.last, DIV, SUBJECT, "vendor_b")
    primary = only(days.last, DIV, SUBJECT, "primary")
    assert not vendor_b.success and vendor_b.quarantine and vendor_b.severity is Severity.CRITICAL
    assert primary.success and not primary.quarantine
    assert (
        vendor_b.message
        == "US-A vendor_b 115.00 vs primary 101.00 (+13.9%): vendor_b looks wrong: its return is a spike (z=+9.5); quarantined"
    )
    spike = only(days.last, "price.spike", SUBJECT, "vendor_b")
    assert spike.statistics["z"] == pytest.approx(0.13976194 / (1.4826 * 0.00995033), rel=1e-6)
    # vendor_b's spike is not a good price: the next day's return is measured from 100.00, its
    # last good price, so its return back to 100.00 is no spike the other way.
    days.run({SUBJECT: "100.00", **{p: "50.00" for p in PEERS}})
    assert failures(days.last) == []
    assert days.prices.last_good(SUBJECT, "vendor_b") == D("100.00")


def test_the_primary_is_blamed_when_its_return_is_the_spike() -> None:
    days = _history()
    days.run(
        {SUBJECT: "115.00", **{p: "50.00" for p in PEERS}}, {SUBJECT: "101.00", **{p: "50.00" for p in PEERS}}
    )
    primary = only(days.last, DIV, SUBJECT, "primary")
    vendor_b = only(days.last, DIV, SUBJECT, "vendor_b")
    assert not primary.success and primary.quarantine
    assert vendor_b.success
    assert (
        primary.message
        == "US-A primary 115.00 vs vendor_b 101.00 (+13.9%): primary looks wrong: its return is a spike (z=+9.5); quarantined"
    )
    assert days.prices.last_good(SUBJECT) == D("100.00")


def test_when_dq_cannot_tell_both_vendors_are_quarantined() -> None:
    days = _history()
    # primary 104.00: ln(1.04) = 0.03922, z = 2.66; vendor_b 108.00: ln(1.08) = 0.07696, z = 5.22.
    # Neither is a spike (z <= 8); vendor_b's |z| is over blame_min_z 3 but only 1.96 x the
    # primary's, short of blame_ratio 2: dq cannot tell.
    days.run(
        {SUBJECT: "104.00", **{p: "50.00" for p in PEERS}}, {SUBJECT: "108.00", **{p: "50.00" for p in PEERS}}
    )
    both = [only(days.last, DIV, SUBJECT, vendor) for vendor in ("primary", "vendor_b")]
    assert all(not r.success and r.quarantine for r in both)
    assert both[1].message == (
        "US-A vendor_b 108.00 vs primary 104.00 (+3.8%): dq cannot tell which vendor is wrong; both quarantined for the day"
    )
    assert days.prices.last_good(SUBJECT) == days.prices.last_good(SUBJECT, "vendor_b") == D("100.00")


def test_the_vendor_that_stands_out_by_the_blame_ratio_is_blamed() -> None:
    days = _history()
    # primary 102.00: ln(1.02) = 0.01980, z = 1.34; vendor_b 108.00: z = 5.22 = 3.9 x 1.34 >= 2,
    # and >= 3: vendor_b stands out though neither is a spike.
    days.run(
        {SUBJECT: "102.00", **{p: "50.00" for p in PEERS}}, {SUBJECT: "108.00", **{p: "50.00" for p in PEERS}}
    )
    assert not only(days.last, DIV, SUBJECT, "vendor_b").success
    assert only(days.last, DIV, SUBJECT, "primary").success
    assert "its return stands out (z=+5.2 vs +1.3)" in only(days.last, DIV, SUBJECT, "vendor_b").message


def test_a_stale_vendor_is_blamed_when_the_other_vendor_and_the_peers_moved() -> None:
    instruments = [equity(SUBJECT), *(equity(p) for p in PEERS)]
    days = PriceDays(instruments)
    for k in range(6):  # everyone moves together: 100 / 101 and 50.00 / 50.50
        up = k % 2 == 1
        days.run({SUBJECT: "101.00" if up else "100.00", **{p: "50.50" if up else "50.00" for p in PEERS}})
    # Day 7: everyone falls back 1 %, vendor_b repeats its 101.00 of yesterday.
    everyone_down = {SUBJECT: "100.00", **{p: "50.00" for p in PEERS}}
    days.run(everyone_down, {**everyone_down, SUBJECT: "101.00"})
    stale = only(days.last, "price.stale", SUBJECT, "vendor_b")
    assert not stale.success and stale.stale_business_days == 1
    assert (
        stale.message
        == "US-A vendor_b 101.00 unchanged for 1 business day(s) while primary moved -0.99% and 100% of peers moved"
    )
    divergence = only(days.last, DIV, SUBJECT, "vendor_b")
    assert not divergence.success and divergence.quarantine
    assert (
        "vendor_b looks wrong: it repeats its price while the other vendor and peers moved"
        in divergence.message
    )
    assert only(days.last, DIV, SUBJECT, "primary").success


def test_vetting_a_price_applies_the_same_rules_and_changes_nothing() -> None:
    days = _history()
    before = days.prices.to_json()
    # The next day's vendor_b quote of 115.00 with no primary yet that day: its return of
    # ln(1.15) = 0.13976 against the history's scale 0.01475 is a spike (z = 9.5).
    tomorrow = days.day + dt.timedelta(days=1)
    results = days.prices.vet(quote(SUBJECT, "115.00", tomorrow, "vendor_b"))
    spike = only(results, "price.spike", SUBJECT, "vendor_b")
    assert not spike.success and spike.caused_by == ("vet",)
    # A primary quote is judged on its own, as at day end: 101.00 is an ordinary move.
    results = days.prices.vet(quote(SUBJECT, "101.00", tomorrow))
    assert only(results, "price.spike", SUBJECT, "primary").success
    assert days.prices.to_json() == before
