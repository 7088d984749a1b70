"""Ground truth of every fault in the world, seeded or requested on demand, and its calibration.

Seeded faults fire with the probabilities below (times SimConfig.fault_rate);
each part of the world draws them from its own random stream. On-demand
faults (Simulation.inject) wait as PENDING for their next eligible target and
are then APPLIED exactly like a seeded one. The custodian corrects each of its
own errors after a delay drawn from CORRECTION_DELAYS (custodian.py says how);
the fault then records corrected_date and the events of the correction. The
figures and their sources: docs/custodian-calibration.md.

| kind | target | event_ids | correction_event_ids |
|---|---|---|---|
| CUSTODIAN_DROP_TRADE | next fill | the fill the custodian did not book | the late custodian.trade, its settlement, income adjustments |
| CUSTODIAN_DUPLICATE_TRADE | next fill | the duplicate custodian.trade, then its settlement(s) | the custodian.correction cancelling it, income adjustments |
| CUSTODIAN_QUANTITY_TYPO / PRICE_TYPO | next fill | custodian.trade, the confirmation carrying the typo, settlement(s) | the broker's corrected trade.confirmation, the cancellation, the rebooked custodian.trade, its settlement, income adjustments |
| SETTLEMENT_DELAY | next fill | custodian.trade, then the late custodian.settlement | the late SETTLED custodian.settlement |
| SETTLEMENT_FAIL | next fill | custodian.trade, the FAILED settlement, the later SETTLED one | the later SETTLED custodian.settlement |
| CORPORATE_ACTION_DATE_MISMATCH | next dividend or coupon | the custodian.cashflow with the wrong value date | the custodian.correction of its value date |
| VENDOR_STALE_PRICE / VENDOR_PRICE_SPIKE | next day's vendor price | the price.vendor event | (never corrected) |
| PRIMARY_PRICE_SPIKE | next day's primary price | the price.tick event carrying the bad print | (never corrected) |
| FX_CROSS_INCONSISTENT | next day's cross | the fx.rate event | (never corrected) |
| (none) | FX deals (trade.fx) | - | - |

A settlement delay or fail never reaches the broker's confirmation: it shows the contractual
settle date (see custodian.py).

A primary bad print (PRIMARY_PRICE_SPIKE, primary.py) touches only the published price.tick of
one instrument for one day. The simulation's true price stays the desk's: its valuation, orders
and fills, the dividends it announces, the next day's price path and vendor_b's quote (so the two
vendors disagree that day). Whatever reads the stream sees the bad print: the ledger's marks,
reporting's NAV, market's own day-end snapshot (GetSnapshot) and the NAV its management fees
accrue on (fees.py). The next day's print is right again; nobody corrects the bad one.

Rates: docs/custodian-calibration.md gives each rate's source or the assumption behind it. No
published rate was found for wrong prices of a primary (official) pricing vendor, so
PRIMARY_PRICE_SPIKE's 0.02 % per instrument-day is an assumption: well below vendor_b's spike
rate (0.05 %), since a fund's book-of-record vendor is the one whose prices are checked hardest
before they are published (the doc's "Price and FX faults").

No fault applies to any other cash flow: subscriptions, redemptions and management fee payments
(cashflow.fee) are booked by the custodian as the internal book has them, on their date, and
fee accruals (fee.accrued) move no cash at all.

No fault applies to FX deals either: the custodian books each one and settles both legs on its
settle date (custodian.fx_settlement), so its statements move both currencies the day the
internal book does. A choice, not a calibration: the faults above are drawn per trade from
published rates for securities settlement, and none was found for a custodian's FX settlements; a
deal-level fault would also reach the desk's foreign cash, which it funds exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from services.common.market_events import currencies_of
from services.market.sim.records import (
    AssetClass,
    FaultKind,
    FaultRequest,
    FaultStatus,
    InjectedFault,
    Instrument,
    Mandate,
)

K = FaultKind

# Per fill for custodian faults, per dividend/coupon booking for the date mismatch, per
# instrument-day for vendor_b and the primary, per cross-day for FX. SETTLEMENT_FAIL's figure
# is the blend at the simulation's fill mix; a fill draws its asset class's rate
# (ASSET_CLASS_RATES).
SEEDED_RATES: Mapping[FaultKind, float] = MappingProxyType(
    {
        K.CUSTODIAN_DROP_TRADE: 0.002,
        K.CUSTODIAN_DUPLICATE_TRADE: 0.001,
        K.CUSTODIAN_QUANTITY_TYPO: 0.002,
        K.CUSTODIAN_PRICE_TYPO: 0.002,
        K.SETTLEMENT_DELAY: 0.01,
        K.SETTLEMENT_FAIL: 0.025,
        K.CORPORATE_ACTION_DATE_MISMATCH: 0.02,
        K.VENDOR_STALE_PRICE: 0.002,
        K.VENDOR_PRICE_SPIKE: 0.0005,
        K.FX_CROSS_INCONSISTENT: 0.004,
        K.PRIMARY_PRICE_SPIKE: 0.0002,
    }
)
# Where a kind's rate depends on the fill's asset class (instead of SEEDED_RATES).
ASSET_CLASS_RATES: Mapping[FaultKind, Mapping[AssetClass, float]] = MappingProxyType(
    {
        K.SETTLEMENT_FAIL: MappingProxyType(
            {AssetClass.EQUITY: 0.03, AssetClass.GOVERNMENT_BOND: 0.01, AssetClass.CORPORATE_BOND: 0.025}
        ),
    }
)


@dataclass(frozen=True, slots=True)
class Delay:
    """A delay in whole business days: buckets of (share, low, high), each uniform over low..high.

    days(u) maps a uniform u in [0, 1) to a delay through the inverse of the distribution
    function, so a caller that already holds a uniform draw adds none.
    """

    buckets: tuple[tuple[float, int, int], ...]

    def __post_init__(self) -> None:
        if abs(sum(share for share, _, _ in self.buckets) - 1.0) > 1e-9:
            raise ValueError(f"delay shares must add up to 1: {self.buckets}")
        previous = 0
        for share, low, high in self.buckets:
            if share <= 0 or low <= previous or high < low:
                raise ValueError(f"delay buckets need a share > 0 and ascending days from 1: {self.buckets}")
            previous = high

    def days(self, u: float) -> int:
        below = 0.0
        for share, low, high in self.buckets[:-1]:
            if u < below + share:
                return _within(u - below, share, low, high)
            below += share
        share, low, high = self.buckets[-1]  # also what the rounding of the shares' sum leaves
        return _within(u - below, share, low, high)

    @property
    def mean(self) -> float:
        return sum(share * (low + high) / 2 for share, low, high in self.buckets)

    @property
    def longest(self) -> int:
        return self.buckets[-1][2]


def _within(u: float, share: float, low: int, high: int) -> int:
    """The day of a bucket that u (uniform in [0, share)) falls on."""
    return low + min(int(u / share * (high - low + 1)), high - low)


# Business days from the trade date to the correction (booking errors), from the contractual
# settle date to the late settlement (delays and fails), from the day the custodian booked the
# income to the value-date correction (date mismatches).
CORRECTION_DELAYS: Mapping[FaultKind, Delay] = MappingProxyType(
    {
        K.CUSTODIAN_DROP_TRADE: Delay(((0.50, 1, 1), (0.35, 2, 3), (0.15, 4, 10))),
        K.CUSTODIAN_DUPLICATE_TRADE: Delay(((0.70, 1, 2), (0.25, 3, 5), (0.05, 6, 15))),
        K.CUSTODIAN_QUANTITY_TYPO: Delay(((0.70, 1, 3), (0.25, 4, 10), (0.05, 11, 30))),
        K.CUSTODIAN_PRICE_TYPO: Delay(((0.80, 1, 3), (0.17, 4, 10), (0.03, 11, 30))),
        K.SETTLEMENT_DELAY: Delay(((0.60, 1, 1), (0.25, 2, 2), (0.10, 3, 3), (0.05, 4, 5))),
        K.SETTLEMENT_FAIL: Delay(((0.55, 1, 1), (0.30, 2, 3), (0.12, 4, 7), (0.03, 8, 20))),
        K.CORPORATE_ACTION_DATE_MISMATCH: Delay(((0.60, 1, 3), (0.30, 4, 10), (0.10, 11, 30))),
    }
)
# Where a kind's delay depends on the fill's asset class (instead of CORRECTION_DELAYS).
ASSET_CLASS_DELAYS: Mapping[FaultKind, Mapping[AssetClass, Delay]] = MappingProxyType(
    {
        K.SETTLEMENT_FAIL: MappingProxyType(
            {AssetClass.GOVERNMENT_BOND: Delay(((0.70, 1, 1), (0.25, 2, 3), (0.04, 4, 7), (0.01, 8, 23)))}
        ),
    }
)


def correction_delay(kind: FaultKind, asset_class: AssetClass | None = None) -> Delay:
    """How long the custodian takes to correct a fault of this kind (KeyError: nobody corrects it)."""
    by_class = ASSET_CLASS_DELAYS.get(kind, {})
    return (
        by_class[asset_class]
        if asset_class is not None and asset_class in by_class
        else CORRECTION_DELAYS[kind]
    )


TRADE_KINDS: tuple[FaultKind, ...] = (
    K.CUSTODIAN_DROP_TRADE,
    K.CUSTODIAN_DUPLICATE_TRADE,
    K.CUSTODIAN_QUANTITY_TYPO,
    K.CUSTODIAN_PRICE_TYPO,
    K.SETTLEMENT_DELAY,
    K.SETTLEMENT_FAIL,
)
VENDOR_KINDS: tuple[FaultKind, ...] = (K.VENDOR_STALE_PRICE, K.VENDOR_PRICE_SPIKE)
PRIMARY_KINDS: tuple[FaultKind, ...] = (K.PRIMARY_PRICE_SPIKE,)
CASH_FLOW_KINDS: tuple[FaultKind, ...] = (K.CORPORATE_ACTION_DATE_MISMATCH,)
FX_KINDS: tuple[FaultKind, ...] = (K.FX_CROSS_INCONSISTENT,)


@dataclass(slots=True)
class Fault:
    """A fault while it is open to change; InjectedFault is its frozen view."""

    fault_id: str
    kind: FaultKind
    on_demand: bool
    mandate_id: str = ""
    instrument_id: str = ""
    currency_pair: str = ""
    fill_id: str = ""
    status: FaultStatus = FaultStatus.PENDING
    applied_date: dt.date | None = None
    event_ids: list[str] = field(default_factory=list)
    description: str = ""
    corrected_date: dt.date | None = None
    correction_event_ids: list[str] = field(default_factory=list)

    def record(self) -> InjectedFault:
        return InjectedFault(
            fault_id=self.fault_id,
            kind=self.kind,
            status=self.status,
            on_demand=self.on_demand,
            mandate_id=self.mandate_id,
            instrument_id=self.instrument_id,
            fill_id=self.fill_id,
            currency_pair=self.currency_pair,
            applied_date=self.applied_date,
            event_ids=tuple(self.event_ids),
            description=self.description,
            corrected_date=self.corrected_date,
            correction_event_ids=tuple(self.correction_event_ids),
        )

    def matches(self, mandate_id: str = "", instrument_id: str = "", currency_pair: str = "") -> bool:
        """Whether a target fits this fault's requested mandate, instrument and pair (empty = any)."""
        return (
            (not self.mandate_id or self.mandate_id == mandate_id)
            and (not self.instrument_id or self.instrument_id == instrument_id)
            and (not self.currency_pair or self.currency_pair == currency_pair)
        )


class FaultBook:
    """Every fault in creation order; fault ids are FLT-000001, FLT-000002, ..."""

    def __init__(self, rate: float) -> None:
        if rate < 0:
            raise ValueError(f"fault_rate: must be >= 0, not {rate}")
        self.rate = rate
        self._faults: list[Fault] = []
        self._pending: list[Fault] = []

    def probability(self, kind: FaultKind, asset_class: AssetClass | None = None) -> float:
        """The seeded probability of a kind (of a fill of this asset class, where the rate depends on it)."""
        by_class = ASSET_CLASS_RATES.get(kind, {})
        base = (
            by_class[asset_class]
            if asset_class is not None and asset_class in by_class
            else SEEDED_RATES[kind]
        )
        return min(1.0, base * self.rate)

    def next_id(self) -> str:
        """The id the next fault will get."""
        return f"FLT-{len(self._faults) + 1:06d}"

    def _new(self, kind: FaultKind, on_demand: bool) -> Fault:
        fault = Fault(fault_id=self.next_id(), kind=kind, on_demand=on_demand)
        self._faults.append(fault)
        return fault

    def request(self, request: FaultRequest) -> Fault:
        fault = self._new(request.kind, on_demand=True)
        fault.mandate_id = request.mandate_id
        fault.instrument_id = request.instrument_id
        fault.currency_pair = request.currency_pair
        target = request.currency_pair or request.instrument_id or request.mandate_id or "any target"
        fault.description = f"requested on demand; waits for the next eligible event of {target}"
        self._pending.append(fault)
        return fault

    def pending(self, kinds: Collection[FaultKind]) -> list[Fault]:
        return [f for f in self._pending if f.kind in kinds]

    def take(
        self,
        kinds: Collection[FaultKind],
        mandate_id: str = "",
        instrument_id: str = "",
        currency_pair: str = "",
    ) -> Fault | None:
        """The oldest pending fault of these kinds that fits the target; removed from the pending list."""
        for fault in self._pending:
            if fault.kind in kinds and fault.matches(mandate_id, instrument_id, currency_pair):
                self._pending.remove(fault)
                return fault
        return None

    def seeded(self, kind: FaultKind) -> Fault:
        return self._new(kind, on_demand=False)

    def apply(
        self,
        fault: Fault,
        on: dt.date,
        description: str,
        *,
        mandate_id: str = "",
        instrument_id: str = "",
        fill_id: str = "",
        currency_pair: str = "",
    ) -> None:
        if fault in self._pending:
            self._pending.remove(fault)
        fault.status = FaultStatus.APPLIED
        fault.applied_date = on
        fault.description = description
        fault.mandate_id = mandate_id or fault.mandate_id
        fault.instrument_id = instrument_id or fault.instrument_id
        fault.fill_id = fill_id or fault.fill_id
        fault.currency_pair = currency_pair or fault.currency_pair

    def correct(self, fault: Fault, on: dt.date) -> None:
        """The custodian corrected this fault on `on`."""
        fault.corrected_date = on

    def records(self) -> tuple[InjectedFault, ...]:
        return tuple(f.record() for f in self._faults)

    def applied_on(self, on: dt.date) -> tuple[InjectedFault, ...]:
        return tuple(f.record() for f in self._faults if f.applied_date == on)


FX_CROSSES: tuple[str, ...] = ("EURGBP", "EURJPY", "GBPJPY")


def validate_request(
    request: FaultRequest,
    instruments: Sequence[Instrument],
    mandates: Sequence[Mandate],
    pays_income: Collection[str],
) -> None:
    """ValueError("<field>: <why>") when the request names an unknown or unsuitable target.

    pays_income: instrument ids that pay dividends or coupons.
    """
    by_id = {i.instrument_id: i for i in instruments}
    mandate_by_id = {m.mandate_id: m for m in mandates}
    kind = request.kind
    if not isinstance(kind, FaultKind):
        raise ValueError(f"kind: unknown fault kind {kind!r}")
    if request.mandate_id and request.mandate_id not in mandate_by_id:
        raise ValueError(
            f"mandate_id: unknown mandate {request.mandate_id!r}; known: {', '.join(mandate_by_id)}"
        )
    if request.instrument_id and request.instrument_id not in by_id:
        raise ValueError(f"instrument_id: unknown instrument {request.instrument_id!r}")
    if kind in FX_KINDS:
        if request.currency_pair and request.currency_pair not in FX_CROSSES:
            raise ValueError(
                f"currency_pair: {request.currency_pair!r} is not a published cross; crosses are {', '.join(FX_CROSSES)}"
            )
        for name in ("mandate_id", "instrument_id"):
            if getattr(request, name):
                raise ValueError(f"{name}: not used by {kind}; give currency_pair or nothing")
        return
    if request.currency_pair:
        raise ValueError(f"currency_pair: only {K.FX_CROSS_INCONSISTENT} takes a currency pair")
    if kind in VENDOR_KINDS or kind in PRIMARY_KINDS:
        if request.mandate_id:
            raise ValueError(f"mandate_id: not used by {kind}; give instrument_id or nothing")
        return
    instrument = by_id.get(request.instrument_id)
    if instrument is None:
        return
    holders = [
        m
        for m in mandates
        if instrument.currency in currencies_of(m) and instrument.asset_class in m.allowed_asset_classes
    ]
    if request.mandate_id and all(m.mandate_id != request.mandate_id for m in holders):
        raise ValueError(
            f"instrument_id: mandate {request.mandate_id} never holds {instrument.instrument_id}"
        )
    if not holders:
        raise ValueError(f"instrument_id: no mandate ever holds {instrument.instrument_id}")
    if kind in CASH_FLOW_KINDS and instrument.instrument_id not in pays_income:
        raise ValueError(f"instrument_id: {instrument.instrument_id} pays no dividends or coupons")
