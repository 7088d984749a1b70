"""The price rules as functions of one quote and its evidence: each returns a CheckResult.

prices.py gathers the evidence (the day's quotes, each vendor's Series, the peers) and decides
which vendor to blame; these functions only judge and word the verdict. Boundaries: a value
exactly at a tolerance passes (|difference| > limit fails); a stale count at the threshold fails
(days >= threshold: `days` is how many unchanged business days make a price stale); a robust z
exactly at the threshold passes (|z| > z fails).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from services.common.market_events import Instrument, PriceQuote
from services.dq.domain import curve
from services.dq.domain.config import Check
from services.dq.domain.price_series import Move
from services.dq.domain.results import PRIMARY, CheckResult, SubjectKind, percent

INSTRUMENT = SubjectKind.INSTRUMENT


@dataclass(frozen=True, slots=True)
class Evidence:
    """What dq knows of one vendor's price of one instrument today.

    move: its return since the last good price, net of peers (None without a last good price);
    spike: whether its robust z passes the spike threshold (None: no score yet);
    stale_days: business days it has gone unchanged; stale: whether that makes it stale (the
    other vendor and the peers moved); other_move: the other vendor's move today; peers_moved:
    the share of peers whose primary price changed today (None: no peers priced both days);
    judged_z: the z already found for this price (a primary met again by a second vendor).
    """

    move: Move | None
    spike: bool | None
    stale_days: int
    stale: bool
    other_move: float | None
    peers_moved: float | None
    judged_z: float | None = None

    @property
    def z_any(self) -> float | None:
        """The robust z, else the prior one (Move.z), else the one judged before."""
        return self.move.z if self.move is not None else self.judged_z


def blame(
    check: Check,
    vendor: str,
    vendor_rejected: bool,
    primary_rejected: bool,
    mine: Evidence,
    theirs: Evidence,
) -> tuple[frozenset[str], str]:
    """Who is wrong when `vendor` and the primary diverge (prices.py lists the steps), in words."""
    if primary_rejected != vendor_rejected:
        who = PRIMARY if primary_rejected else vendor
        return frozenset({who}), f"{who} looks wrong: its price failed its own checks; quarantined"
    if mine.stale != theirs.stale:
        who = vendor if mine.stale else PRIMARY
        return frozenset(
            {who}
        ), f"{who} looks wrong: it repeats its price while the other vendor and peers moved; quarantined"
    if bool(mine.spike) != bool(theirs.spike):
        who, z = (vendor, mine.z_any) if mine.spike else (PRIMARY, theirs.z_any)
        return frozenset({who}), f"{who} looks wrong: its return is a spike (z={z or 0.0:+.1f}); quarantined"
    mine_z, theirs_z = mine.z_any, theirs.z_any
    if mine_z is not None and theirs_z is not None:
        ratio, floor = check.threshold("blame_ratio"), check.threshold("blame_min_z")
        for who, z, other_z in ((vendor, mine_z, theirs_z), (PRIMARY, theirs_z, mine_z)):
            if abs(z) >= floor and abs(z) >= ratio * abs(other_z):
                return frozenset(
                    {who}
                ), f"{who} looks wrong: its return stands out (z={z:+.1f} vs {other_z:+.1f}); quarantined"
    return frozenset({PRIMARY, vendor}), "dq cannot tell which vendor is wrong; both quarantined for the day"


def attributes(instrument: Instrument | None, quote_currency: str = "") -> dict[str, str]:
    """What a price check's subject filter may name."""
    if instrument is None:
        return {"currency": quote_currency}
    return {
        "asset_class": instrument.asset_class.value,
        "currency": instrument.currency,
        "market": instrument.market,
        "instrument_id": instrument.instrument_id,
    }


def non_positive(check: Check, quote: PriceQuote, event_id: str) -> CheckResult:
    ok = quote.price > 0
    return check.result(
        success=ok,
        subject=quote.instrument_id,
        subject_kind=INSTRUMENT,
        vendor=quote.vendor,
        observed=quote.price,
        value_date=quote.price_date,
        caused_by=(event_id,),
        message=f"{quote.instrument_id} {quote.vendor} {quote.price}"
        + ("" if ok else ": not a positive price"),
    )


def off_tick(check: Check, quote: PriceQuote, tick: Decimal, event_id: str) -> CheckResult:
    remainder = quote.price % tick
    ok = remainder == 0
    return check.result(
        success=ok,
        subject=quote.instrument_id,
        subject_kind=INSTRUMENT,
        vendor=quote.vendor,
        observed=quote.price,
        reference=quote.price - remainder,
        value_date=quote.price_date,
        caused_by=(event_id,),
        threshold=float(tick),
        message=f"{quote.instrument_id} {quote.vendor} {quote.price}"
        + ("" if ok else f" is not a multiple of its tick {tick}"),
    )


def vs_curve(
    check: Check,
    quote: PriceQuote,
    instrument: Instrument,
    curve_pct: Mapping[str, float],
    spread_pct: float,
    event_id: str,
    regime_event_id: str,
) -> CheckResult | None:
    """A bond's clean price against the price its curve yield (plus spread) implies; None for a
    bond it cannot price (no coupon or maturity, matured, an unknown convention)."""
    if instrument.maturity is None or instrument.coupon_rate_pct is None or quote.price <= 0:
        return None
    day = quote.price_date
    ytm = curve.implied_yield_pct(curve_pct, instrument.maturity, day, spread_pct)
    try:
        model = curve.clean_price(
            day,
            instrument.maturity,
            instrument.coupon_rate_pct,
            instrument.coupons_per_year,
            ytm,
            instrument.day_count,
        )
    except ValueError:
        return None
    tick = instrument.tick_size
    implied = (Decimal(repr(model)) / tick).quantize(Decimal(1), rounding=ROUND_HALF_EVEN) * tick
    limit = max(check.decimal("tolerance") * implied, check.decimal("ticks") * tick)
    difference = quote.price - implied
    ok = abs(difference) <= limit
    deviation = float(difference / implied) if implied else 0.0
    return check.result(
        success=ok,
        subject=quote.instrument_id,
        subject_kind=INSTRUMENT,
        vendor=quote.vendor,
        observed=quote.price,
        reference=implied,
        deviation=deviation,
        threshold=float(limit / implied) if implied else 0.0,
        value_date=day,
        caused_by=(event_id, regime_event_id) if regime_event_id else (event_id,),
        statistics={"yield_pct": round(ytm, 6), "spread_pct": round(spread_pct, 6)},
        message=f"{quote.instrument_id} {quote.vendor} {quote.price} vs {implied} implied by the curve "
        f"at {ytm:.3f}% ({percent(deviation)})",
    )


def divergence(
    check: Check,
    quote: PriceQuote,
    other: PriceQuote,
    tick: Decimal,
    blamed: bool,
    verdict: str,
    caused_by: tuple[str, ...],
) -> CheckResult:
    """`quote` against the other vendor's price; blamed: dq holds this vendor's price wrong."""
    difference = quote.price - other.price
    limit = max(check.decimal("tolerance") * abs(other.price), check.decimal("ticks") * tick)
    deviation = float(difference / other.price) if other.price else 0.0
    return check.result(
        success=not blamed,
        subject=quote.instrument_id,
        subject_kind=INSTRUMENT,
        vendor=quote.vendor,
        observed=quote.price,
        reference=other.price,
        deviation=deviation,
        threshold=float(limit / abs(other.price)) if other.price else 0.0,
        value_date=quote.price_date,
        caused_by=caused_by,
        message=f"{quote.instrument_id} {quote.vendor} {quote.price} vs {other.vendor} {other.price} "
        f"({percent(deviation)}): {verdict}",
    )


def diverges(check: Check, price: Decimal, primary: Decimal, tick: Decimal) -> bool:
    """Whether two vendors' prices differ by more than the tolerance (or the tick allowance)."""
    limit = max(check.decimal("tolerance") * abs(primary), check.decimal("ticks") * tick)
    return abs(price - primary) > limit


def stale(
    check: Check, quote: PriceQuote, evidence: Evidence, other: PriceQuote | None, event_id: str
) -> CheckResult:
    days = evidence.stale_days
    moved = []
    if evidence.other_move is not None and other is not None:
        moved.append(f"{other.vendor} moved {percent(evidence.other_move)}")
    if evidence.peers_moved is not None:
        moved.append(f"{evidence.peers_moved:.0%} of peers moved")
    if evidence.stale:
        message = (
            f"{quote.instrument_id} {quote.vendor} {quote.price} unchanged for {days} business day(s) "
            f"while {' and '.join(moved)}"
        )
    elif days:
        message = f"{quote.instrument_id} {quote.vendor} {quote.price} unchanged for {days} business day(s), as were the others"
    else:
        message = f"{quote.instrument_id} {quote.vendor} {quote.price} is fresh"
    return check.result(
        success=not evidence.stale,
        subject=quote.instrument_id,
        subject_kind=INSTRUMENT,
        vendor=quote.vendor,
        observed=quote.price,
        reference=other.price if other is not None else None,
        # In the threshold's unit (business days unchanged); the other vendor's move is a statistic.
        deviation=float(days),
        threshold=check.threshold("days"),
        value_date=quote.price_date,
        caused_by=(event_id,),
        stale_business_days=days,
        statistics={
            **({"peers_moved": evidence.peers_moved} if evidence.peers_moved is not None else {}),
            **({"other_move": evidence.other_move} if evidence.other_move is not None else {}),
        },
        message=message,
    )


def spike(
    check: Check,
    quote: PriceQuote,
    evidence: Evidence,
    reference: Decimal | None,
    peer_median: float | None,
    factor: float,
    event_id: str,
) -> CheckResult | None:
    """The robust z of the vendor's return net of peers; None while there is no score yet."""
    move = evidence.move
    if move is None or move.score is None:
        return None
    scored = move.score
    limit = check.threshold("z")
    ok = not evidence.spike
    since = f" over {move.gap} business days" if move.gap > 1 else ""
    return check.result(
        success=ok,
        subject=quote.instrument_id,
        subject_kind=INSTRUMENT,
        vendor=quote.vendor,
        observed=quote.price,
        reference=reference,
        # In the threshold's unit (a robust z); the return net of peers is a statistic.
        deviation=scored.z,
        threshold=limit,
        value_date=quote.price_date,
        caused_by=(event_id,),
        statistics={
            "net_return": move.net,
            "z": scored.z,
            "median": scored.median,
            "mad": scored.mad,
            "scale": scored.scale,
            "scale_source": scored.source,
            "peer_median": peer_median or 0.0,
            "regime_factor": factor,
            "gap": float(move.gap),
        },
        message=f"{quote.instrument_id} {quote.vendor} {quote.price} vs last good {reference}: "
        f"{percent(move.net)} net of peers{since} (z={scored.z:+.1f}, limit ±{limit:g})",
    )


def missing(
    check: Check,
    instrument_id: str,
    day: dt.date,
    days_without: int,
    last_good: Decimal | None,
    caused_by: tuple[str, ...],
) -> CheckResult:
    """A held instrument's primary price today: days_without is 0 when it has one."""
    ok = days_without < check.whole("days")
    last = f"; last good {last_good}" if last_good is not None else "; never priced"
    return check.result(
        success=ok,
        subject=instrument_id,
        subject_kind=INSTRUMENT,
        vendor=PRIMARY,
        reference=last_good,
        threshold=check.threshold("days"),
        value_date=day,
        caused_by=caused_by,
        stale_business_days=days_without,
        message=f"{instrument_id} primary priced on {day}"
        if days_without == 0
        else f"{instrument_id} has no primary price on {day} ({days_without} business day(s){last})",
    )
