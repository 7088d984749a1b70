"""The fault book: seeded probabilities, on-demand requests waiting for a target, and request checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.market.sim.faults import (
    CASH_FLOW_KINDS,
    FX_KINDS,
    PRIMARY_KINDS,
    SEEDED_RATES,
    TRADE_KINDS,
    VENDOR_KINDS,
    FaultBook,
    validate_request,
)
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
DAY = dt.date(2020, 3, 2)


def test_the_fault_rate_multiplies_the_seeded_rates_up_to_certainty() -> None:
    assert FaultBook(0.0).probability(K.SETTLEMENT_DELAY) == 0.0  # zero is allowed: no seeded faults
    assert FaultBook(1.0).probability(K.SETTLEMENT_DELAY) == pytest.approx(0.01)
    assert FaultBook(3.0).probability(K.CUSTODIAN_QUANTITY_TYPO) == pytest.approx(0.006)  # 3 x 0.002
    # FX: 0.004 x 250 = 1 exactly; x 300 = 1.2 is capped at 1.
    assert FaultBook(250.0).probability(K.FX_CROSS_INCONSISTENT) == pytest.approx(1.0)
    assert FaultBook(300.0).probability(K.FX_CROSS_INCONSISTENT) == 1.0
    assert FaultBook(1e9).probability(K.VENDOR_PRICE_SPIKE) == 1.0
    assert set(SEEDED_RATES) == set(FaultKind)


@pytest.mark.parametrize("rate", [-0.001, -1.0])
def test_a_negative_fault_rate_is_rejected(rate: float) -> None:
    with pytest.raises(ValueError, match=rf"fault_rate: must be >= 0, not {rate}"):
        FaultBook(rate)


def test_faults_are_numbered_in_creation_order_seeded_or_requested() -> None:
    book = FaultBook(1.0)
    seeded = book.seeded(K.SETTLEMENT_FAIL)
    requested = book.request(FaultRequest(K.CUSTODIAN_DROP_TRADE))
    assert (seeded.fault_id, requested.fault_id) == ("FLT-000001", "FLT-000002")
    assert seeded.on_demand is False and requested.on_demand is True
    assert (seeded.kind, requested.kind) == (K.SETTLEMENT_FAIL, K.CUSTODIAN_DROP_TRADE)
    assert seeded.status is FaultStatus.PENDING and requested.status is FaultStatus.PENDING
    # A seeded fault is applied at once by its caller; only requests wait.
    assert book.pending(TRADE_KINDS) == [requested]
    assert [r.fault_id for r in book.records()] == ["FLT-000001", "FLT-000002"]


@pytest.mark.parametrize(
    ("request_", "target"),
    [
        (FaultRequest(K.FX_CROSS_INCONSISTENT, currency_pair="EURJPY"), "EURJPY"),
        (FaultRequest(K.CUSTODIAN_DROP_TRADE, mandate_id="M1", instrument_id="US-A"), "US-A"),
        (FaultRequest(K.CUSTODIAN_DROP_TRADE, mandate_id="M1"), "M1"),
        (FaultRequest(K.CUSTODIAN_DROP_TRADE), "any target"),
    ],
)
def test_a_request_names_its_most_specific_target(request_: FaultRequest, target: str) -> None:
    fault = FaultBook(0.0).request(request_)
    assert fault.description == f"requested on demand; waits for the next eligible event of {target}"
    assert (fault.kind, fault.mandate_id, fault.instrument_id, fault.currency_pair) == (
        request_.kind,
        request_.mandate_id,
        request_.instrument_id,
        request_.currency_pair,
    )


def test_take_serves_the_oldest_pending_fault_that_fits_and_removes_it() -> None:
    book = FaultBook(0.0)
    for_m2 = book.request(FaultRequest(K.SETTLEMENT_DELAY, mandate_id="M2"))
    for_a = book.request(FaultRequest(K.SETTLEMENT_DELAY, instrument_id="US-A"))
    anything = book.request(FaultRequest(K.SETTLEMENT_DELAY))
    vendor = book.request(FaultRequest(K.VENDOR_STALE_PRICE))
    assert book.take(CASH_FLOW_KINDS, "M1", "US-A") is None  # no pending fault of that kind
    # M1 / US-B: the M2 and US-A requests do not fit; the open one does.
    assert book.take(TRADE_KINDS, "M1", "US-B") is anything
    assert book.take(TRADE_KINDS, "M1", "US-B") is None
    assert book.take(TRADE_KINDS, "M2", "US-A") is for_m2  # both fit: the older first
    assert book.take(TRADE_KINDS, "M2", "US-A") is for_a
    assert book.pending(TRADE_KINDS) == [] and book.pending(VENDOR_KINDS) == [vendor]
    # A fault naming a cross fits only that cross.
    cross = book.request(FaultRequest(K.FX_CROSS_INCONSISTENT, currency_pair="EURGBP"))
    assert book.take(FX_KINDS, currency_pair="EURJPY") is None
    assert book.take(FX_KINDS, currency_pair="EURGBP") is cross


def test_a_fault_matches_targets_on_every_field_it_names() -> None:
    book = FaultBook(0.0)
    fault = book.request(FaultRequest(K.FX_CROSS_INCONSISTENT, currency_pair="EURGBP"))
    assert fault.matches(currency_pair="EURGBP") and not fault.matches(currency_pair="EURJPY")
    narrow = book.request(FaultRequest(K.CUSTODIAN_PRICE_TYPO, mandate_id="M1", instrument_id="US-A"))
    assert narrow.matches("M1", "US-A")
    assert not narrow.matches("M1", "US-B") and not narrow.matches("M2", "US-A")
    assert book.request(FaultRequest(K.CUSTODIAN_PRICE_TYPO)).matches("M9", "X", "EURJPY")


def test_applying_a_fault_records_it_and_keeps_the_requested_targets_unless_told() -> None:
    book = FaultBook(0.0)
    fault = book.request(FaultRequest(K.CUSTODIAN_QUANTITY_TYPO, mandate_id="M1"))
    other = book.seeded(K.SETTLEMENT_DELAY)
    book.apply(fault, DAY, "quantity 100 booked as 1000", instrument_id="US-A", fill_id="F7")
    fault.event_ids.append("E1")
    assert book.pending(TRADE_KINDS) == []
    assert fault.record() == InjectedFault(
        fault_id="FLT-000001",
        kind=K.CUSTODIAN_QUANTITY_TYPO,
        status=FaultStatus.APPLIED,
        on_demand=True,
        mandate_id="M1",
        instrument_id="US-A",
        fill_id="F7",
        currency_pair="",
        applied_date=DAY,
        event_ids=("E1",),
        description="quantity 100 booked as 1000",
    )
    book.apply(other, DAY + dt.timedelta(days=1), "late", mandate_id="M2", currency_pair="EURJPY")
    assert (other.mandate_id, other.currency_pair, other.fill_id, other.instrument_id) == (
        "M2",
        "EURJPY",
        "",
        "",
    )
    assert other.record().currency_pair == "EURJPY" and other.record().mandate_id == "M2"
    assert [f.fault_id for f in book.applied_on(DAY)] == ["FLT-000001"]
    assert [f.fault_id for f in book.applied_on(DAY + dt.timedelta(days=1))] == ["FLT-000002"]
    assert book.applied_on(DAY - dt.timedelta(days=1)) == ()


# --------------------------------------------------------------------------- validate_request


def _instrument(instrument_id: str, currency: str, asset_class: AssetClass = AssetClass.EQUITY) -> Instrument:
    return Instrument(
        instrument_id, instrument_id, instrument_id, asset_class, currency, "Tech", "US", Decimal("0.01"), 2
    )


def _mandate(mandate_id: str, currency: str, classes: tuple[AssetClass, ...]) -> Mandate:
    return Mandate(
        mandate_id, mandate_id, currency, "b", {}, (), 0.1, 0.01, 0.05, Decimal(1), "FIFO", classes
    )


INSTRUMENTS = (
    _instrument("US-A", "USD"),
    _instrument("US-NODIV", "USD"),
    _instrument("EU-B", "EUR"),
    _instrument("JP-C", "JPY"),
    _instrument("UST", "USD", AssetClass.GOVERNMENT_BOND),
)
MANDATES = (
    _mandate("EQ-USD", "USD", (AssetClass.EQUITY,)),
    _mandate("FI-USD", "USD", (AssetClass.GOVERNMENT_BOND,)),
    _mandate("EQ-EUR", "EUR", (AssetClass.EQUITY,)),
)
PAYERS = {"US-A", "EU-B", "UST"}


def _validate(request: FaultRequest) -> None:
    validate_request(request, INSTRUMENTS, MANDATES, PAYERS)


@pytest.mark.parametrize(
    "request_",
    [
        FaultRequest(K.CUSTODIAN_DROP_TRADE),
        FaultRequest(K.CUSTODIAN_DROP_TRADE, mandate_id="EQ-USD", instrument_id="US-A"),
        FaultRequest(K.SETTLEMENT_FAIL, instrument_id="UST"),
        FaultRequest(K.CORPORATE_ACTION_DATE_MISMATCH, instrument_id="EU-B", mandate_id="EQ-EUR"),
        FaultRequest(K.VENDOR_STALE_PRICE, instrument_id="JP-C"),  # a vendor fault needs no holder
        FaultRequest(K.VENDOR_PRICE_SPIKE),
        FaultRequest(K.FX_CROSS_INCONSISTENT),
        FaultRequest(K.FX_CROSS_INCONSISTENT, currency_pair="GBPJPY"),
        FaultRequest(K.SETTLEMENT_DELAY, mandate_id="FI-USD"),
    ],
)
def test_valid_requests_pass(request_: FaultRequest) -> None:
    _validate(request_)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (FaultRequest("NOT_A_KIND"), r"^kind: unknown fault kind 'NOT_A_KIND'$"),  # type: ignore[arg-type]
        (
            FaultRequest(K.CUSTODIAN_DROP_TRADE, mandate_id="XX"),
            r"^mandate_id: unknown mandate 'XX'; known: EQ-USD, FI-USD, EQ-EUR$",
        ),
        (
            FaultRequest(K.CUSTODIAN_DROP_TRADE, instrument_id="XX"),
            r"^instrument_id: unknown instrument 'XX'$",
        ),
        (
            FaultRequest(K.FX_CROSS_INCONSISTENT, currency_pair="EURUSD"),
            r"^currency_pair: 'EURUSD' is not a published cross; crosses are EURGBP, EURJPY, GBPJPY$",
        ),
        (
            FaultRequest(K.FX_CROSS_INCONSISTENT, mandate_id="EQ-USD"),
            r"^mandate_id: not used by FX_CROSS_INCONSISTENT; give currency_pair or nothing$",
        ),
        (
            FaultRequest(K.FX_CROSS_INCONSISTENT, instrument_id="US-A"),
            r"^instrument_id: not used by FX_CROSS_INCONSISTENT; give currency_pair or nothing$",
        ),
        (
            FaultRequest(K.VENDOR_STALE_PRICE, currency_pair="EURJPY"),
            r"^currency_pair: only FX_CROSS_INCONSISTENT takes a currency pair$",
        ),
        (
            FaultRequest(K.SETTLEMENT_DELAY, currency_pair="EURJPY"),
            r"^currency_pair: only FX_CROSS_INCONSISTENT takes a currency pair$",
        ),
        (
            FaultRequest(K.VENDOR_PRICE_SPIKE, mandate_id="EQ-USD"),
            r"^mandate_id: not used by VENDOR_PRICE_SPIKE; give instrument_id or nothing$",
        ),
        (
            FaultRequest(K.SETTLEMENT_DELAY, mandate_id="FI-USD", instrument_id="US-A"),
            r"^instrument_id: mandate FI-USD never holds US-A$",
        ),
        (
            FaultRequest(K.SETTLEMENT_DELAY, mandate_id="EQ-EUR", instrument_id="US-A"),
            r"^instrument_id: mandate EQ-EUR never holds US-A$",
        ),
        (
            FaultRequest(K.CUSTODIAN_DROP_TRADE, instrument_id="JP-C"),
            r"^instrument_id: no mandate ever holds JP-C$",
        ),
        (
            FaultRequest(K.CORPORATE_ACTION_DATE_MISMATCH, instrument_id="US-NODIV"),
            r"^instrument_id: US-NODIV pays no dividends or coupons$",
        ),
    ],
)
def test_invalid_requests_say_which_field_is_wrong(request_: FaultRequest, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _validate(request_)


def test_the_kind_groups_partition_the_fault_kinds() -> None:
    groups = (TRADE_KINDS, VENDOR_KINDS, PRIMARY_KINDS, CASH_FLOW_KINDS, FX_KINDS)
    assert sorted(k for group in groups for k in group) == sorted(FaultKind)
