"""The custodian's corrections of its own errors, and the income entitlements they may change.

A custodian error is corrected after a delay the simulation draws from the fault itself
(faults.CORRECTION_DELAYS; custodian.py says which stream), so nothing outside the custodian
ever decides it and a seed replays byte for byte. What a correction does, as a real
custodian does it:

| fault | the correction (on the correction day) |
|---|---|
| CUSTODIAN_DROP_TRADE | the fill is booked late: a custodian.trade with its own CUS- ref and the fill's trade and settle dates; it settles on the later of its settle date and the booking day |
| CUSTODIAN_DUPLICATE_TRADE | the duplicate booking is cancelled (custodian.correction CANCEL_TRADE); when it had settled, the cancellation reverses its settlement (positions and cash back) |
| CUSTODIAN_QUANTITY_TYPO / PRICE_TYPO | the mistyped booking is cancelled as above and rebooked with the fill's figures (a custodian.trade whose replaces_ref names it), keeping the fill's trade and settle dates; when the wrong one had settled, the rebooking settles the same day, so the difference in position and cash is corrected on the correction day |
| CORPORATE_ACTION_DATE_MISMATCH | the value date is corrected to the pay date (custodian.correction VALUE_DATE, back-valued) |
| SETTLEMENT_DELAY / SETTLEMENT_FAIL | nothing to correct: the late settlement ends them |

Income: the custodian pays dividends and coupons on its own records (custodian.py). When a
correction changes a holding that an entitlement was fixed on (a dividend's ex-date after the
trade date, a coupon's pay date after the settle date, both up to the correction day), the
entitlement follows the corrected holding: not paid yet, it is simply paid right; paid and
booked, the difference is credited or debited on the correction day (custodian.correction
INCOME_ADJUSTMENT, value-dated on the pay date); scheduled but not yet booked (a late value
date), the flow's amount is amended before it is booked. So once every fault is corrected
and everything has settled, the custodian holds exactly the internal book's positions and
cash.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from services.market.sim.books import ZERO
from services.market.sim.faults import Fault
from services.market.sim.records import (
    CashFlowKind,
    CustodianCashFlow,
    CustodianCorrection,
    CustodianTrade,
    Fill,
    Instrument,
    Side,
)
from services.market.sim.universe import CURRENCY_QUANTUM


def signed_quantity(side: Side, quantity: Decimal) -> Decimal:
    """A quantity from the mandate's side: + bought, - sold."""
    return quantity if side is Side.BUY else -quantity


@dataclass(slots=True)
class Booking:
    """One custodian.trade and how it will settle.

    fault: the fault this booking carries (its events go to the fault's event_ids);
    corrects: the fault this booking corrects, a late booking or a rebooking, or a delayed or
    failed booking once it settles (its events go to the fault's correction_event_ids).
    counted: whether it is in the custodian's contractually settled position (coupons).
    """

    trade: CustodianTrade
    fill: Fill
    settle_on: dt.date  # the day it actually settles
    fail_on: dt.date | None = None  # the day it reports FAILED, if it fails first
    fault: Fault | None = None
    corrects: Fault | None = None
    settled: bool = False
    counted: bool = False
    cancelled: bool = False
    event_id: str = ""  # of the custodian.trade event, set by the engine
    fill_event_id: str = ""  # of the trade.fill event

    @property
    def signed_quantity(self) -> Decimal:
        return signed_quantity(self.trade.side, self.trade.quantity)


@dataclass(slots=True)
class ScheduledCashFlow:
    """A custodian.cashflow: booked on book_on; pay_date is the date it is due (its right value date)."""

    flow: CustodianCashFlow
    book_on: dt.date
    caused_by: tuple[str, ...]
    fault: Fault | None = None
    pay_date: dt.date | None = None
    booked: bool = False
    event_id: str = ""  # of the custodian.cashflow event, set by the engine


@dataclass(slots=True)
class Entitlement:
    """The custodian's entitlement of one mandate to one dividend or coupon, on its own records.

    Fixed on fixed_on: a dividend's ex-date from the position booked by trade date, a coupon's
    pay date from the position contractually settled (on_contract). paid: the cash paid so
    far, None until the pay date; flow: the custodian.cashflow it paid, if any.
    """

    action_id: str
    mandate_id: str
    instrument_id: str
    kind: CashFlowKind
    on_contract: bool
    fixed_on: dt.date
    pay_date: dt.date
    per_unit: Decimal  # cash per share, or per unit of face
    currency: str
    quantity: Decimal
    paid: Decimal | None = None
    flow: ScheduledCashFlow | None = None
    cash_flow_id: str = ""
    cause_event_id: str = ""  # the internal cash flow (or the corporate action) it pays against

    def amount(self) -> Decimal:
        """The cash due on the quantity held (nothing on none or a short holding)."""
        return (max(self.quantity, ZERO) * self.per_unit).quantize(
            CURRENCY_QUANTUM[self.currency], rounding=ROUND_HALF_EVEN
        )

    @property
    def lineage_event_id(self) -> str:
        """The event an income adjustment names: the custodian's own cash flow, else what it pays against."""
        return self.flow.event_id if self.flow is not None else self.cause_event_id

    def moved_by(self, fill: Fill, day: dt.date) -> bool:
        """Whether correcting the booking of this fill on `day` changes what the entitlement was
        fixed on: a booking counts for dividends with an ex-date after its trade date, for coupons
        paid after its settle date, and a correction counts from the next fixing on."""
        start = fill.settle_date if self.on_contract else fill.trade_date
        return (
            self.mandate_id == fill.mandate_id
            and self.instrument_id == fill.instrument_id
            and start < self.fixed_on <= day
        )


class Entitlements:
    """The custodian's income entitlements that a correction may still change, in fixing order."""

    def __init__(self) -> None:
        self._kept: list[Entitlement] = []

    def __len__(self) -> int:
        return len(self._kept)

    def add(self, entitlement: Entitlement) -> None:
        self._kept.append(entitlement)

    def follow(self, fill: Fill, change: Decimal, day: dt.date) -> list[tuple[Entitlement, Decimal, Decimal]]:
        """Move the entitlements fixed on the holding that correcting `fill`'s booking changed by
        `change` units. Returns (entitlement, entitled units moved, cash to move today) for income
        already paid and booked; one not paid yet is paid on the corrected holding, and a flow
        not booked yet is amended instead."""
        out: list[tuple[Entitlement, Decimal, Decimal]] = []
        for entitlement in self._kept:
            if not entitlement.moved_by(fill, day):
                continue
            before, units_before = entitlement.amount(), max(entitlement.quantity, ZERO)
            entitlement.quantity += change
            if entitlement.paid is None:
                continue
            after = entitlement.amount()
            entitlement.paid = after
            scheduled = entitlement.flow
            if scheduled is not None and not scheduled.booked:
                scheduled.flow = dataclasses.replace(scheduled.flow, amount=after)
            elif after != before:
                out.append((entitlement, max(entitlement.quantity, ZERO) - units_before, after - before))
        return out

    def forget(self, horizon: dt.date) -> None:
        """Drop paid entitlements fixed on or before `horizon`: no pending correction can reach them."""
        self._kept = [e for e in self._kept if e.paid is None or e.fixed_on > horizon]


@dataclass(slots=True)
class Correction:
    """A correction the custodian will make on `due`, scheduled when the fault is applied.

    Trade faults: wrong is the booking to cancel (duplicate, typo), rebook whether the fill is
    booked with its own figures (drop, typo). Date mismatches: flow is the mis-dated cash flow.
    """

    due: dt.date
    fault: Fault
    fill: Fill | None = None
    instrument: Instrument | None = None
    wrong: Booking | None = None
    rebook: bool = False
    flow: ScheduledCashFlow | None = None
    fill_event_id: str = ""


@dataclass(slots=True)
class AppliedCorrection:
    """What one correction produced, in the order the engine emits it.

    record: the custodian.correction cancelling a booking or correcting a value date (None for a
    late booking), caused by corrected_event_id; booking: the late booking or the rebooking;
    adjustments: income adjustments with the entitlement each adjusts.
    """

    fault: Fault
    record: CustodianCorrection | None = None
    corrected_event_id: str = ""
    booking: Booking | None = None
    adjustments: list[tuple[CustodianCorrection, Entitlement]] = field(default_factory=list)
