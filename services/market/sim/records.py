"""The simulated world's immutable records.

Everything the simulation produces is one of these frozen dataclasses; the
gRPC layer translates them to protobuf in services/market/codec.py. Money,
quantities and prices are Decimal; analytics (yields, weights, drift) float.
Dates are datetime.date, times datetime.datetime in UTC.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from services.common.market_events import (
    AssetClass,
    BenchmarkConstituent,
    BenchmarkSegment,
    Book,
    CashFlow,
    CashFlowKind,
    Confirmation,
    CorporateAction,
    CorporateActionKind,
    CorrectionKind,
    CustodianCashFlow,
    CustodianCorrection,
    CustodianStatement,
    CustodianTrade,
    DayEnd,
    FeeAccrual,
    Fill,
    FxDeal,
    FxQuote,
    FxSettlement,
    Instrument,
    Mandate,
    MarketEvent,
    Payload,
    PriceQuote,
    RegimeState,
    SectorTarget,
    SettlementState,
    SettlementStatus,
    Side,
    SyntheticOrigin,
)

__all__ = [
    "AssetClass",
    "BenchmarkConstituent",
    "BenchmarkSegment",
    "Book",
    "BookSnapshot",
    "CashFlow",
    "CashFlowKind",
    "Confirmation",
    "CorporateAction",
    "CorporateActionKind",
    "CorrectionKind",
    "CustodianCashFlow",
    "CustodianCorrection",
    "CustodianStatement",
    "CustodianTrade",
    "DayEnd",
    "DayResult",
    "FaultKind",
    "FaultRequest",
    "FaultStatus",
    "FeeAccrual",
    "Fill",
    "FxDeal",
    "FxQuote",
    "FxSettlement",
    "InjectedFault",
    "Instrument",
    "Mandate",
    "MarketEvent",
    "Payload",
    "PriceQuote",
    "RegimeState",
    "SectorTarget",
    "SettlementState",
    "SettlementStatus",
    "Side",
    "SimEvent",
    "SyntheticOrigin",
]


class FaultKind(enum.StrEnum):
    CUSTODIAN_DROP_TRADE = "CUSTODIAN_DROP_TRADE"
    CUSTODIAN_DUPLICATE_TRADE = "CUSTODIAN_DUPLICATE_TRADE"
    CUSTODIAN_QUANTITY_TYPO = "CUSTODIAN_QUANTITY_TYPO"
    CUSTODIAN_PRICE_TYPO = "CUSTODIAN_PRICE_TYPO"
    SETTLEMENT_DELAY = "SETTLEMENT_DELAY"
    SETTLEMENT_FAIL = "SETTLEMENT_FAIL"
    CORPORATE_ACTION_DATE_MISMATCH = "CORPORATE_ACTION_DATE_MISMATCH"
    VENDOR_STALE_PRICE = "VENDOR_STALE_PRICE"
    VENDOR_PRICE_SPIKE = "VENDOR_PRICE_SPIKE"
    FX_CROSS_INCONSISTENT = "FX_CROSS_INCONSISTENT"
    PRIMARY_PRICE_SPIKE = "PRIMARY_PRICE_SPIKE"


class FaultStatus(enum.StrEnum):
    PENDING = "PENDING"
    APPLIED = "APPLIED"


# The event payloads and MarketEvent are the stream's records, shared with every follower:
# defined once in services/common/market_events. SimEvent is the simulation's name for one.
SimEvent = MarketEvent


# ---------------------------------------------------------------- faults and state


@dataclass(frozen=True, slots=True)
class FaultRequest:
    """An on-demand fault; empty targets let the simulation choose."""

    kind: FaultKind
    mandate_id: str = ""
    instrument_id: str = ""
    currency_pair: str = ""


@dataclass(frozen=True, slots=True)
class InjectedFault:
    """Ground truth of one fault, seeded or on demand.

    corrected_date: the day the custodian corrected it (None while it has not, and always for
    vendor, primary price and FX faults); correction_event_ids: the events of that correction (faults.py).
    """

    fault_id: str
    kind: FaultKind
    status: FaultStatus
    on_demand: bool
    mandate_id: str = ""
    instrument_id: str = ""
    fill_id: str = ""
    currency_pair: str = ""
    applied_date: dt.date | None = None
    event_ids: tuple[str, ...] = ()
    description: str = ""
    corrected_date: dt.date | None = None
    correction_event_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """Prices, FX and both books at the end of a business day (after its last event)."""

    as_of_seq: int
    as_of_date: dt.date
    prices: tuple[PriceQuote, ...]
    fx_rates: tuple[FxQuote, ...]
    internal_books: tuple[Book, ...]
    custodian_books: tuple[Book, ...]


@dataclass(frozen=True, slots=True)
class DayResult:
    """What one business day produced: its events in seq order and the day-end snapshot."""

    date: dt.date
    events: tuple[SimEvent, ...]
    snapshot: BookSnapshot
    regime: str = ""
    faults_applied: tuple[InjectedFault, ...] = field(default=())
