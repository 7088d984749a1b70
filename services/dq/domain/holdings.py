"""Holdings checks: pure functions over a mandate's books, prices and FX, one result per mandate.

Each result covers many rows (positions); unexpected_count counts the failing ones and sample
holds the first few (sample_size). Quantities are units (shares, or currency units of face for
bonds); a bond's value is quantity x price / 100 (market_events.unit_price).

- check_weights: positions valued at primary prices and converted at primary FX, plus cash, as
  weights of the NAV; they sum to one unless a position or balance cannot be valued (no price,
  no rate). A position valued at its last good price (given) counts in the NAV but not in the
  weights, so the shortfall is its weight.
- check_market_values: quantity x price against the market value a feed states.
- compare_feeds: book vs custodian and book vs ledger positions; the third feed is the referee
  that says which of the two looks wrong (two agree, one differs); "" when it cannot tell.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from services.common.fx_rates import FxRates
from services.common.market_events import Book, Instrument, unit_price
from services.dq.domain.config import Check, CheckSet
from services.dq.domain.results import CheckResult, Family, SubjectKind, percent

MANDATE = SubjectKind.MANDATE
ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class FeedHoldings:
    """A feed's view of one mandate at a day end: positions by instrument, and the market values it
    states (the ledger's: cost plus the mark, in the instrument's currency)."""

    positions: Mapping[str, Decimal]
    market_values: Sequence[StatedValue] = ()


@dataclass(frozen=True, slots=True)
class StatedValue:
    """A position's market value as a feed states it, in the instrument's currency."""

    instrument_id: str
    quantity: Decimal
    market_value: Decimal


def check_weights(
    check: Check,
    book: Book,
    base_currency: str,
    instruments: Mapping[str, Instrument],
    prices: Mapping[str, Decimal],
    fx_pairs: Mapping[str, Decimal],
    value_date: dt.date,
    caused_by: Sequence[str] = (),
    last_good: Mapping[str, Decimal] | None = None,
) -> CheckResult:
    """prices: today's primary price by instrument; fx_pairs: today's primary rates ("EURUSD")."""
    rates = FxRates(fx_pairs)
    valued: dict[str, Decimal] = {}
    fallback = ZERO
    rows: list[dict[str, str]] = []

    def in_base(amount: Decimal, currency: str) -> Decimal | None:
        try:
            return amount * rates.rate(currency, base_currency)
        except ValueError:
            return None

    for iid, quantity in sorted(book.positions.items()):
        if quantity == 0:
            continue
        instrument = instruments.get(iid)
        price = prices.get(iid)
        if instrument is None or price is None:
            reason = "unknown instrument" if instrument is None else "no primary price"
            rows.append({"instrument_id": iid, "quantity": str(quantity), "reason": reason})
            good = (last_good or {}).get(iid)
            if instrument is not None and good is not None:
                value = in_base(quantity * unit_price(good, instrument.asset_class), instrument.currency)
                fallback += value if value is not None else ZERO
            continue
        value = in_base(quantity * unit_price(price, instrument.asset_class), instrument.currency)
        if value is None:
            rows.append(
                {"instrument_id": iid, "quantity": str(quantity), "reason": f"no {instrument.currency} rate"}
            )
            continue
        valued[iid] = value
    for currency, amount in sorted(book.cash.items()):
        value = in_base(amount, currency)
        if value is None:
            rows.append(
                {
                    "instrument_id": f"cash {currency}",
                    "quantity": str(amount),
                    "reason": f"no {currency} rate",
                }
            )
            continue
        valued[f"cash {currency}"] = value
    nav = sum(valued.values(), ZERO) + fallback
    total = sum((v / nav for v in valued.values()), ZERO) if nav else ONE
    shortfall = ONE - total
    tolerance = check.decimal("tolerance")
    ok = not rows and abs(shortfall) <= tolerance
    size = check.whole("sample_size")
    if rows:
        named = ", ".join(f"{r['instrument_id']} ({r['reason']})" for r in rows[:size])
        message = (
            f"{book.mandate_id}: weights sum to {total:.6f}; {len(rows)} item(s) cannot be valued: {named}"
        )
    else:
        message = f"{book.mandate_id}: {len(valued)} positions and balances weigh {total:.6f} ({percent(float(-shortfall))} off one)"
    return check.result(
        success=ok,
        subject=book.mandate_id,
        subject_kind=MANDATE,
        observed=total,
        reference=ONE,
        deviation=float(shortfall),
        threshold=float(tolerance),
        value_date=value_date,
        caused_by=caused_by,
        unexpected_count=len(rows) if rows else (0 if ok else 1),
        sample=rows[:size],
        statistics={"nav": float(nav), "valued": float(len(valued))},
        message=message,
    )


def check_market_values(
    check: Check,
    mandate_id: str,
    rows: Sequence[StatedValue],
    instruments: Mapping[str, Instrument],
    prices: Mapping[str, Decimal],
    value_date: dt.date,
    caused_by: Sequence[str] = (),
) -> CheckResult:
    """Each stated market value against quantity x price (per 100 for bonds)."""
    tolerance, absolute = check.decimal("tolerance"), check.decimal("absolute")
    failing: list[dict[str, str]] = []
    worst = 0.0
    stated_total = computed_total = ZERO
    for row in rows:
        instrument = instruments.get(row.instrument_id)
        price = prices.get(row.instrument_id)
        if instrument is None or price is None:
            failing.append(
                {"instrument_id": row.instrument_id, "stated": str(row.market_value), "reason": "no price"}
            )
            continue
        computed = row.quantity * unit_price(price, instrument.asset_class)
        stated_total += row.market_value
        computed_total += computed
        difference = row.market_value - computed
        if computed:
            worst = max(worst, abs(float(difference / computed)))
        if abs(difference) > max(absolute, tolerance * abs(computed)):
            failing.append(
                {
                    "instrument_id": row.instrument_id,
                    "stated": str(row.market_value),
                    "computed": str(computed),
                    "difference": str(difference),
                }
            )
    size = check.whole("sample_size")
    named = ", ".join(
        f"{r['instrument_id']} {r['stated']} vs {r.get('computed', r.get('reason'))}" for r in failing[:size]
    )
    return check.result(
        success=not failing,
        subject=mandate_id,
        subject_kind=MANDATE,
        observed=stated_total,
        reference=computed_total,
        deviation=worst,
        threshold=float(tolerance),
        value_date=value_date,
        caused_by=caused_by,
        unexpected_count=len(failing),
        sample=failing[:size],
        message=f"{mandate_id}: {len(failing)} of {len(rows)} market values differ from quantity x price"
        + (f": {named}" if failing else ""),
    )


def compare_feeds(
    checks: CheckSet,
    mandate_id: str,
    book: Mapping[str, Decimal],
    custodian: Mapping[str, Decimal] | None,
    ledger: Mapping[str, Decimal] | None,
    value_date: dt.date,
    caused_by: Sequence[str] = (),
) -> list[CheckResult]:
    """book_vs_custodian (referee: the ledger) and book_vs_ledger (referee: the custodian), for the
    feeds given and the checks declared for this mandate."""
    out: list[CheckResult] = []
    attributes = {"mandate_id": mandate_id}
    pairs = (
        ("book_vs_custodian", "custodian", custodian, "ledger", ledger),
        ("book_vs_ledger", "ledger", ledger, "custodian", custodian),
    )
    for rule, name, other, referee_name, referee in pairs:
        check = checks.select(Family.HOLDINGS, rule, attributes)
        if check is None or other is None:
            continue
        out.append(
            _compare(check, mandate_id, book, name, other, referee_name, referee, value_date, caused_by)
        )
    return out


def _compare(
    check: Check,
    mandate_id: str,
    book: Mapping[str, Decimal],
    name: str,
    other: Mapping[str, Decimal],
    referee_name: str,
    referee: Mapping[str, Decimal] | None,
    value_date: dt.date,
    caused_by: Sequence[str],
) -> CheckResult:
    tolerance = check.decimal("quantity")
    failing: list[dict[str, str]] = []
    for iid in sorted(set(book) | set(other)):
        ours, theirs = book.get(iid, ZERO), other.get(iid, ZERO)
        if abs(theirs - ours) <= tolerance:
            continue
        suspect = ""
        if referee is not None:
            third = referee.get(iid, ZERO)
            agrees_with_book, agrees_with_other = (
                abs(third - ours) <= tolerance,
                abs(third - theirs) <= tolerance,
            )
            suspect = (
                name if agrees_with_book and not agrees_with_other else "book" if agrees_with_other else ""
            )
        row = {"instrument_id": iid, "book": str(ours), name: str(theirs), "suspect": suspect}
        if referee is not None:
            row[referee_name] = str(referee.get(iid, ZERO))
        failing.append(row)
    suspects = {row["suspect"] for row in failing}
    vendor = suspects.pop() if len(suspects) == 1 else ""
    size = check.whole("sample_size")
    named = ", ".join(
        f"{r['instrument_id']} book {r['book']} vs {name} {r[name]}"
        + (f" ({r['suspect']} looks wrong)" if r["suspect"] else " (cannot tell which)")
        for r in failing[:size]
    )
    return check.result(
        success=not failing,
        subject=mandate_id,
        subject_kind=MANDATE,
        vendor=vendor,
        observed=sum((other.get(r["instrument_id"], ZERO) for r in failing), ZERO),
        reference=sum((book.get(r["instrument_id"], ZERO) for r in failing), ZERO),
        threshold=float(tolerance),
        value_date=value_date,
        caused_by=caused_by,
        unexpected_count=len(failing),
        sample=failing[:size],
        message=f"{mandate_id}: {len(failing)} position(s) differ between book and {name}"
        + (f": {named}" if failing else ""),
    )
