"""spike: the robust z of a vendor's daily log return net of its peers' median return.

z = (r - median x f) / max(1.4826 x MAD x f, min_scale), f = the regime's volatility / 16 %;
with MAD = 0 the scale falls back to 1.2533 x mean |deviation|, and never below min_scale (1 %
here). |z| exactly at the threshold passes (|z| > z fails). Scored once 5 returns are known.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from services.dq.domain import robust
from tests.dq.domain.builders import PRICE_CHECKS, PriceDays, equity, failures, only, price_checks

D = Decimal
SUBJECT = "US-A"
PEERS = ("US-B", "US-C", "US-D")
FLAT_PEERS = {p: "50.00" for p in PEERS}


def _flat(days: int = 6) -> PriceDays:
    run = PriceDays([equity(SUBJECT), *(equity(p) for p in PEERS)])
    for _ in range(days):
        run.run({SUBJECT: "100.00", **FLAT_PEERS})
    return run


def test_no_score_before_min_history_returns() -> None:
    run = _flat(6)  # 5 returns known, none scored: each was scored against fewer before it
    assert [r for r in run.results if r.rule == "spike"] == []
    run.run({SUBJECT: "100.00", **FLAT_PEERS})  # the 6th return is scored against those 5
    assert only(run.last, "price.spike", SUBJECT, "primary").success


def test_a_flat_series_scores_a_move_against_the_floor() -> None:
    # Five returns of 0: MAD 0 and mean |dev| 0, so the scale is the 1 % floor.
    run = _flat()
    run.run({SUBJECT: "100.01", **FLAT_PEERS})  # one tick: ln(1.0001) / 0.01 = 0.01
    result = only(run.last, "price.spike", SUBJECT, "primary")
    assert result.success
    assert result.statistics["z"] == pytest.approx(math.log(1.0001) / 0.01)
    assert result.statistics["mad"] == 0.0 and result.statistics["scale"] == 0.01
    assert result.statistics["scale_source"] == robust.FROM_FLOOR


@pytest.mark.parametrize(("price", "spike"), [("108.00", False), ("109.00", True)])
def test_mad_zero_falls_back_to_the_floor(price: str, spike: bool) -> None:
    # ln(1.08) / 0.01 = 7.70 <= 8; ln(1.09) / 0.01 = 8.62 > 8.
    run = _flat()
    run.run({SUBJECT: price, **FLAT_PEERS})
    for vendor in ("primary", "vendor_b"):
        result = only(run.last, "price.spike", SUBJECT, vendor)
        assert result.success is not spike
        assert result.statistics["z"] == pytest.approx(math.log(float(price) / 100) / 0.01)
    # The vendors agree: a real move is no divergence, and nothing is quarantined.
    assert not any(r.quarantine for r in run.last)


def test_exactly_at_the_threshold_passes() -> None:
    z = math.log(D("109.00") / D("100.00")) / 0.01  # 8.6178...
    for threshold, success in ((z, True), (z - 1e-9, False)):
        text = PRICE_CHECKS.replace("z = 8.0,", f"z = {threshold!r},")
        run = PriceDays([equity(SUBJECT), *(equity(p) for p in PEERS)], price_checks(text))
        for _ in range(6):
            run.run({SUBJECT: "100.00", **FLAT_PEERS})
        run.run({SUBJECT: "109.00", **FLAT_PEERS})
        assert only(run.last, "price.spike", SUBJECT, "primary").success is success


def test_the_mean_absolute_deviation_stands_in_for_a_zero_mad() -> None:
    # Median 0 and MAD 0 (three of five are 0), mean |dev| = 0.1 / 5 = 0.02, scale 1.2533 x 0.02.
    scored = robust.score(0.1, [0.0, 0.0, 0.0, 0.05, 0.05], min_scale=0.01)
    assert scored.mad == 0.0 and scored.source == robust.FROM_MEAN_ABS
    assert scored.scale == pytest.approx(0.025066)
    assert scored.z == pytest.approx(0.1 / 0.025066)


def _alternating(days: int = 7) -> PriceDays:
    """The subject alternates 100.00 / 100.50 while its peers stay at 50.00: net returns of
    +-ln(1.005) = +-0.0049875, median 0, MAD 0.0049875, robust scale 1.4826 x 0.0049875 =
    0.0073945 in a 16 % regime. The last day leaves it at 100.00."""
    run = PriceDays([equity(SUBJECT), *(equity(p) for p in PEERS)])
    for k in range(days):
        run.run({SUBJECT: "100.50" if k % 2 else "100.00", **FLAT_PEERS})
    assert failures(run.results) == []
    return run


def test_a_crash_of_the_whole_market_is_no_spike() -> None:
    # A crisis day (volatility 25 %): every name falls 10 %. Net of the peers' median (ln 0.9)
    # the subject's return is 0: z = 0.
    run = _alternating()
    run.run({SUBJECT: "90.00", **{p: "45.00" for p in PEERS}}, name="crisis", vol=0.25)
    for vendor in ("primary", "vendor_b"):
        result = only(run.last, "price.spike", SUBJECT, vendor)
        assert result.success
        assert result.statistics["z"] == pytest.approx(0.0, abs=1e-9)
        assert result.statistics["peer_median"] == pytest.approx(math.log(0.9))
    assert failures(run.last) == []


def test_one_name_falling_alone_on_a_crisis_day_is_a_spike() -> None:
    # Same crisis day, but only the subject falls 10 %: net ln(0.9) = -0.10536. The regime
    # factor is 0.25 / 0.16 = 1.5625, the scale 0.0073945 x 1.5625 = 0.011554, z = -9.12 < -8.
    run = _alternating()
    run.run({SUBJECT: "90.00", **FLAT_PEERS}, name="crisis", vol=0.25)
    result = only(run.last, "price.spike", SUBJECT, "primary")
    assert not result.success
    assert result.statistics["regime_factor"] == pytest.approx(1.5625)
    assert result.statistics["scale"] == pytest.approx(1.4826 * math.log(1.005) * 1.5625)
    assert result.statistics["z"] == pytest.approx(math.log(0.9) / (1.4826 * math.log(1.005) * 1.5625))
    assert result.message == "US-A primary 90.00 vs last good 100.00: -10.5% net of peers (z=-9.1, limit ±8)"


def test_a_more_volatile_regime_widens_the_scale() -> None:
    # At 40 % volatility (factor 2.5) the same lone fall scores -0.10536 / 0.018486 = -5.7: within
    # what the name's own history, scaled to the regime, allows.
    run = _alternating()
    run.run({SUBJECT: "90.00", **FLAT_PEERS}, name="crisis", vol=0.40)
    result = only(run.last, "price.spike", SUBJECT, "primary")
    assert result.success
    assert result.statistics["z"] == pytest.approx(-5.699, abs=1e-3)


def test_a_gap_spreads_the_move_over_its_business_days() -> None:
    # The subject has no price for a day (held: it is missing), then is 11 % up on its last good
    # price: ln(1.11) = 0.10436 over 2 business days is 0.10436 / sqrt(2) = 0.073793 a day. The
    # scale is max(0.0073945, the 1 % floor) = 0.01: z = 7.38, no spike (in one day it would be
    # 10.4).
    run = _alternating()
    run.run(FLAT_PEERS, held=[SUBJECT])
    missing = only(run.last, "price.missing", SUBJECT, "primary")
    assert not missing.success and missing.stale_business_days == 1
    assert missing.message == "US-A has no primary price on 2020-01-08 (1 business day(s); last good 100.00)"
    run.run({SUBJECT: "111.00", **FLAT_PEERS}, held=[SUBJECT])
    assert only(run.last, "price.missing", SUBJECT, "primary").success
    result = only(run.last, "price.spike", SUBJECT, "primary")
    assert result.success
    assert result.statistics["gap"] == 2.0
    assert result.statistics["z"] == pytest.approx(math.log(1.11) / math.sqrt(2) / 0.01)
    # deviation in the threshold's unit (the z), the net return beside it.
    assert result.deviation == result.statistics["z"] and result.threshold == 8
    assert result.statistics["net_return"] == pytest.approx(math.log(1.11))
    assert (
        result.message
        == "US-A primary 111.00 vs last good 100.00: +10.4% net of peers over 2 business days (z=+7.4, limit ±8)"
    )
