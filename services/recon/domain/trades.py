"""Trade-level checks: the custodian's trade records against the fills they book.

Per fill traded by `today` (fills and the custodian's live records are joined on fill_id;
a booking the custodian cancelled is no record):
- no custodian record: MISSING_AT_CUSTODIAN, a TIMING item while today is before its
  booking deadline, trade date + booking grace (default 0: the trade date's own day-end
  check already breaks), then a BREAK;
- two or more records (custodian refs): DUPLICATE_AT_CUSTODIAN, the extra quantity
  as the difference;
- the first record (lowest ref) is compared field by field: signed quantity
  (QUANTITY_MISMATCH, with the TRADE tolerance of the asset class), price
  (PRICE_MISMATCH, the configured price tolerance), settlement
  (SETTLEMENT_DATE_MISMATCH, book_date the fill's contractual settle date): a BREAK when
  the custodian booked another contractual date, or when that date has come and the
  custodian has not settled (other_date unset); once it settled late, a MATCHED closing
  record with other_date the day it settled, so the break it closes keeps the days late.
A custodian record whose fill_id is not among the fills is MISSING_INTERNALLY, so
the caller passes fills and custodian records of the same window.

Each finding has its own item key (fill id and kind), so a fill can carry several
breaks at once and each keeps its id across checks. Plain dicts: a day's trades are
thousands, not millions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from services.common.market_events import priced_per_100
from services.recon.domain.aging import Calendar, as_calendar
from services.recon.domain.config import ReconConfig
from services.recon.domain.reconcile import CENT, value_of
from services.recon.domain.records import (
    BookTrade,
    BreakKind,
    Comparison,
    CustodianTradeRecord,
    Difference,
    InstrumentRef,
    Outcome,
    Scope,
    Valuation,
)
from services.recon.domain.tolerances import within

COMPARISON = Comparison.BOOK_VS_CUSTODIAN


def trade_item_key(mandate_id: str, reference: str, kind: BreakKind) -> str:
    return "|".join((COMPARISON.value, Scope.TRADE.value, mandate_id, reference, kind.value))


def _signed(side: str, quantity: Decimal) -> Decimal:
    return quantity if getattr(side, "value", side) == "BUY" else -quantity


def _finding(
    fill: BookTrade,
    records: Sequence[CustodianTradeRecord],
    kind: BreakKind,
    outcome: Outcome,
    description: str,
    valuation: Valuation | None,
    *,
    other_quantity: Decimal | None = None,
    quantity_difference: Decimal | None = None,
    book_amount: Decimal | None = None,
    other_amount: Decimal | None = None,
    other_date: dt.date | None = None,
    tolerance: tuple[Decimal, Decimal] | None = None,
) -> Difference:
    amount, base, base_amount = (None, "", None)
    if quantity_difference is not None:
        amount, base, base_amount = value_of(
            fill.mandate_id, fill.instrument_id, fill.currency, quantity_difference, True, valuation
        )
    elif book_amount is not None and other_amount is not None:
        amount, base, base_amount = value_of(
            fill.mandate_id, fill.instrument_id, fill.currency, other_amount - book_amount, False, valuation
        )
    lineage = tuple(e for e in (fill.event_id, *(r.event_id for r in records)) if e)
    return Difference(
        item_key=trade_item_key(fill.mandate_id, fill.fill_id, kind),
        comparison=COMPARISON,
        scope=Scope.TRADE,
        kind=kind,
        outcome=outcome,
        mandate_id=fill.mandate_id,
        instrument_id=fill.instrument_id,
        currency=fill.currency,
        fill_id=fill.fill_id,
        custodian_refs=tuple(r.custodian_ref for r in records),
        book_quantity=_signed(fill.side, fill.quantity),
        other_quantity=other_quantity,
        quantity_difference=quantity_difference,
        book_amount=book_amount,
        other_amount=other_amount,
        amount_difference=amount,
        base_currency=base,
        base_amount_difference=base_amount,
        book_date=fill.settle_date if kind is BreakKind.SETTLEMENT_DATE_MISMATCH else None,
        other_date=other_date,
        tolerance_absolute=tolerance[0] if tolerance else None,
        tolerance_relative=tolerance[1] if tolerance else None,
        caused_by=lineage,
        description=f"fill {fill.fill_id} ({fill.instrument_id} {fill.side} {fill.quantity:,}): {description}",
    )


def _settlement(
    fill: BookTrade, record: CustodianTradeRecord, today: dt.date, calendar: Calendar
) -> tuple[Outcome, str, dt.date | None] | None:
    """The settlement finding of a fill's first live booking: (outcome, description, other date), or
    None when it settles as agreed (or is not due yet)."""
    ref = record.custodian_ref
    if record.settle_date != fill.settle_date:
        return (
            Outcome.BREAK,
            f"custodian {ref} booked settlement on {record.settle_date}, the book {fill.settle_date}",
            record.settle_date,
        )
    settled = record.settled_on
    if settled is None:
        if today < fill.settle_date:
            return None
        late = calendar.count_between(fill.settle_date, today)
        failed = (
            f"; failed on {record.failed_on}: {record.fail_reason or 'no reason given'}"
            if record.failed_on is not None
            else ""
        )
        return (
            Outcome.BREAK,
            f"custodian {ref} has not settled by the contractual settle date {fill.settle_date}"
            f" ({late} business day(s) late so far{failed})",
            None,
        )
    if settled == fill.settle_date:
        return None
    late = calendar.count_between(fill.settle_date, settled)
    when = "late" if settled > fill.settle_date else "early"
    return (
        Outcome.MATCHED,
        f"custodian {ref} settled on {settled}, {abs(late)} business day(s) {when}"
        f" (contractual settle date {fill.settle_date})",
        settled,
    )


def match_trades(
    fills: Sequence[BookTrade],
    custodian: Sequence[CustodianTradeRecord],
    *,
    today: dt.date,
    config: ReconConfig,
    calendar: Calendar | Sequence[dt.date] | None = None,
    reference: Mapping[str, InstrumentRef] | None = None,
    valuation: Valuation | None = None,
) -> tuple[Difference, ...]:
    """Every trade-level finding (timing items, within-tolerance items and breaks), sorted by item key."""
    cal = as_calendar(calendar)
    reference = reference or {}
    booked: dict[str, list[CustodianTradeRecord]] = {}
    for record in custodian:
        booked.setdefault(record.fill_id, []).append(record)
    out: list[Difference] = []
    known = set()
    for fill in fills:
        known.add(fill.fill_id)
        if fill.trade_date > today:
            continue
        records = sorted(booked.get(fill.fill_id, ()), key=lambda r: r.custodian_ref)
        ref = reference.get(fill.instrument_id)
        book_quantity = _signed(fill.side, fill.quantity)

        if not records:
            deadline = cal.add(fill.trade_date, config.booking_grace_business_days)
            outcome = Outcome.TIMING if today < deadline else Outcome.BREAK
            out.append(
                _finding(
                    fill,
                    records,
                    BreakKind.MISSING_AT_CUSTODIAN,
                    outcome,
                    f"not booked by the custodian by its booking deadline, the day end of {deadline}"
                    f" (contractual settlement {fill.settle_date})",
                    valuation,
                    other_quantity=Decimal(0),
                    quantity_difference=-book_quantity,
                )
            )
            continue
        first = records[0]
        if len(records) > 1:
            extra = sum((_signed(r.side, r.quantity) for r in records[1:]), Decimal(0))
            refs = ", ".join(r.custodian_ref for r in records)
            out.append(
                _finding(
                    fill,
                    records,
                    BreakKind.DUPLICATE_AT_CUSTODIAN,
                    Outcome.BREAK,
                    f"booked {len(records)} times by the custodian ({refs})",
                    valuation,
                    other_quantity=book_quantity + extra,
                    quantity_difference=extra,
                )
            )
        other_quantity = _signed(first.side, first.quantity)
        if other_quantity != book_quantity:
            asset_class = ref.asset_class if ref else ""
            tolerance = config.tolerances.lookup(COMPARISON, Scope.TRADE, asset_class, fill.currency)
            difference = other_quantity - book_quantity
            inside = within(book_quantity, other_quantity, tolerance)
            out.append(
                _finding(
                    fill,
                    [first],
                    BreakKind.QUANTITY_MISMATCH,
                    Outcome.WITHIN_TOLERANCE if inside else Outcome.BREAK,
                    f"custodian {first.custodian_ref} booked {other_quantity:,}",
                    valuation,
                    other_quantity=other_quantity,
                    quantity_difference=difference,
                    tolerance=tolerance.thresholds(difference),
                )
            )
        if first.price != fill.price:
            # Bond prices are per 100 face: the gross amount is quantity x price / 100.
            per_unit = Decimal("0.01") if ref is not None and priced_per_100(ref.asset_class) else Decimal(1)
            inside = within(fill.price, first.price, config.price_tolerance)
            out.append(
                _finding(
                    fill,
                    [first],
                    BreakKind.PRICE_MISMATCH,
                    Outcome.WITHIN_TOLERANCE if inside else Outcome.BREAK,
                    f"custodian {first.custodian_ref} booked price {first.price} instead of {fill.price}",
                    valuation,
                    book_amount=(fill.price * fill.quantity * per_unit).quantize(CENT),
                    other_amount=(first.price * fill.quantity * per_unit).quantize(CENT),
                    tolerance=config.price_tolerance.thresholds(first.price - fill.price),
                )
            )
        settlement = _settlement(fill, first, today, cal)
        if settlement is not None:
            outcome, description, other_date = settlement
            out.append(
                _finding(
                    fill,
                    [first],
                    BreakKind.SETTLEMENT_DATE_MISMATCH,
                    outcome,
                    description,
                    valuation,
                    other_date=other_date,
                )
            )
    for fill_id, records in booked.items():
        if fill_id in known:
            continue
        for record in records:
            if record.trade_date > today:
                continue
            quantity = _signed(record.side, record.quantity)
            out.append(
                Difference(
                    item_key=trade_item_key(
                        record.mandate_id, record.custodian_ref, BreakKind.MISSING_INTERNALLY
                    ),
                    comparison=COMPARISON,
                    scope=Scope.TRADE,
                    kind=BreakKind.MISSING_INTERNALLY,
                    outcome=Outcome.BREAK,
                    mandate_id=record.mandate_id,
                    instrument_id=record.instrument_id,
                    currency=record.currency,
                    fill_id=record.fill_id,
                    custodian_refs=(record.custodian_ref,),
                    book_quantity=Decimal(0),
                    other_quantity=quantity,
                    quantity_difference=quantity,
                    caused_by=(record.event_id,) if record.event_id else (),
                    description=(
                        f"custodian {record.custodian_ref} ({record.instrument_id} {record.side} "
                        f"{record.quantity:,}) books fill {record.fill_id or '(none)'}, unknown to the book"
                    ),
                )
            )
    return tuple(sorted(out, key=lambda d: d.item_key))
