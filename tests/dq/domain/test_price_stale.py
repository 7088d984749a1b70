"""stale: a vendor repeats its price while the other vendor and the peers moved.

Thresholds here: days 1 (a count at the threshold fails: one repeated day is stale), the other
vendor's move at least 0.2 % and 2 ticks (at the threshold counts as moved), its |z| at most 4,
and at least half the peers moved (exactly half counts).
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from tests.dq.domain.builders import PRICE_CHECKS, PriceDays, equity, failures, only, price_checks

SUBJECT = "US-A"
PEERS = ("US-B", "US-C", "US-D", "US-E")


def _together(days: int = 6, subject: tuple[str, str] = ("100.00", "101.00")) -> PriceDays:
    """Everyone rises and falls 1 % together (returns net of peers are 0: the robust scale is the
    1 % floor); the last day leaves the subject at subject[1] and the peers at 50.50."""
    run = PriceDays([equity(SUBJECT), equity("US-LOW"), *(equity(p) for p in PEERS)])
    for k in range(days):
        up = k % 2 == 1
        run.run({SUBJECT: subject[up], **{p: ("50.50" if up else "50.00") for p in PEERS}})
    assert failures(run.results) == []
    return run


def _day(run: PriceDays, primary: str, vendor_b: str, peers: Mapping[str, str] | None = None) -> None:
    moved = {p: "50.00" for p in PEERS} if peers is None else dict(peers)
    run.run({SUBJECT: primary, **moved}, {SUBJECT: vendor_b, **moved})


@pytest.mark.parametrize(
    ("primary", "stale"),
    [
        ("100.20", True),  # the primary moved +0.20 % = 0.002 exactly: at the threshold, moved
        ("100.19", False),  # +0.19 % < 0.2 %: a repeat is no evidence
        ("101.50", True),  # +1.5 %
    ],
)
def test_the_other_vendor_must_move_at_least_min_other_move(primary: str, stale: bool) -> None:
    # The subject moves against its peers (100.00 when they are at 50.50): its net returns are
    # about +-2 %, so the primary's own move here is ordinary (|z| < 1).
    run = _together(subject=("101.00", "100.00"))
    _day(run, primary, "100.00")
    result = only(run.last, "price.stale", SUBJECT, "vendor_b")
    assert result.success is not stale
    assert result.stale_business_days == 1


@pytest.mark.parametrize(("primary", "stale"), [("2.01", False), ("2.02", True)])
def test_the_other_vendor_must_move_at_least_two_ticks(primary: str, stale: bool) -> None:
    # A 2.00 stock: one tick is 0.5 % (over min_other_move) but a one-tick move is rounding, not
    # news; two ticks is the least that makes a repeat suspicious.
    run = PriceDays([equity("US-LOW"), *(equity(p) for p in PEERS)])
    for k in range(4):
        up = k % 2 == 1
        run.run({"US-LOW": "2.00", **{p: ("50.50" if up else "50.00") for p in PEERS}})
    moved = {p: "50.00" for p in PEERS}
    run.run({"US-LOW": primary, **moved}, {"US-LOW": "2.00", **moved})
    assert only(run.last, "price.stale", "US-LOW", "vendor_b").success is not stale


@pytest.mark.parametrize(("moved", "stale"), [(2, True), (1, False)])
def test_at_least_half_the_peers_must_move(moved: int, stale: bool) -> None:
    run = _together()
    peers = {p: ("50.00" if k < moved else "50.50") for k, p in enumerate(PEERS)}
    _day(run, "100.00", "101.00", peers)
    result = only(run.last, "price.stale", SUBJECT, "vendor_b")
    assert result.success is not stale
    assert result.statistics["peers_moved"] == moved / 4


def test_a_repeat_against_an_implausible_move_of_the_other_vendor_is_no_evidence() -> None:
    # The peers fall 1 % (ln 0.990099 = -0.00995); the primary falls 5 % (ln 0.95 = -0.05129):
    # net of peers -0.04134, over the 1 % floor z = -4.1, past max_other_z 4. The other vendor's
    # move is no better evidence than the repeat, so the repeat is not called stale.
    run = _together()
    _day(run, "95.95", "101.00")
    assert only(run.last, "price.stale", SUBJECT, "vendor_b").success
    # A fall of 3 % (z = -2.0) is ordinary: the repeat is stale.
    run = _together()
    _day(run, "97.97", "101.00")
    assert not only(run.last, "price.stale", SUBJECT, "vendor_b").success


def test_a_flat_market_makes_no_price_stale() -> None:
    run = PriceDays([equity(SUBJECT), *(equity(p) for p in PEERS)])
    for _ in range(4):
        run.run({SUBJECT: "100.00", **{p: "50.00" for p in PEERS}})
    assert failures(run.results) == []
    result = only(run.last, "price.stale", SUBJECT, "vendor_b")
    assert result.stale_business_days == 3
    assert result.message == "US-A vendor_b 100.00 unchanged for 3 business day(s), as were the others"


def test_days_counts_unchanged_business_days_and_the_threshold_fails() -> None:
    # days = 2: one repeated day passes, the second (2 >= 2) fails.
    text = PRICE_CHECKS.replace(
        "thresholds = { days = 1, min_other_move", "thresholds = { days = 2, min_other_move"
    )
    run = PriceDays([equity(SUBJECT), *(equity(p) for p in PEERS)], price_checks(text))
    # The subject moves 0.3 % a day: enough to count as moved, within the divergence tolerance.
    for k in range(6):
        up = k % 2 == 1
        run.run({SUBJECT: ("100.30" if up else "100.00"), **{p: ("50.50" if up else "50.00") for p in PEERS}})
    _day(run, "100.00", "100.30")
    assert only(run.last, "price.stale", SUBJECT, "vendor_b").success
    _day(run, "100.30", "100.30", {p: "50.50" for p in PEERS})
    second = only(run.last, "price.stale", SUBJECT, "vendor_b")
    assert not second.success and second.stale_business_days == 2
