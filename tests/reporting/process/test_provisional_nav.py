"""A bad print on the primary vendor, end to end: market publishes it, dq quarantines it, reporting
values that day end at the last good price (a provisional NAV that says why), the ledger holds its
mark at the official price, and the report explains the difference by that price to the cent; the
next day the price is right again, dq's issue resolves itself and the two NAVs agree.

Real processes (market, ledger, dq, reporting); the fault is injected with market's InjectFault on an
equity BAL-USD holds, once dq has 25 days of history (so it can tell which vendor is wrong).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import grpc

from opsuite.common.v1 import common_pb2
from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.reporting.v1 import reporting_pb2, reporting_pb2_grpc
from services.common.convert import date_to_proto
from tests.support.processes import ServiceProcess, start_service
from tests.support.waiting import wait_until

# The clock runs from market's start while ledger, dq and reporting start: at 2 days a second the
# 23 days after day 25 leave over 11 s for that and the injection on a busy machine (with 32 days at
# 4 a second, a slow start-up once let the run end before the fault was injected).
DAYS = 48
INJECT_AFTER = 25
MANDATE = "BAL-USD"
ENV = {
    "OPSUITE_SEED": "21",
    "OPSUITE_START": "2020-06-01",
    "OPSUITE_DAYS": str(DAYS),
    "OPSUITE_SPEED": "2",
    "OPSUITE_FAULT_RATE": "0",
    # The bad print is injected with InjectFault, which market refuses unless this says otherwise.
    "OPSUITE_ALLOW_FAULT_INJECTION": "true",
}


def _date(value: object) -> dt.date:
    return dt.date(value.year, value.month, value.day)  # type: ignore[attr-defined]


def _held_equity(market: market_pb2_grpc.MarketServiceStub) -> str:
    """The largest USD equity position of the mandate in the internal book now."""
    snapshot = market.GetSnapshot(market_pb2.GetSnapshotRequest())
    instruments = {
        i.instrument_id: i
        for i in market.ListInstruments(market_pb2.ListInstrumentsRequest(page_size=1000)).instruments
    }
    prices = {p.instrument_id: Decimal(p.price.value) for p in snapshot.prices}
    book = next(b for b in snapshot.internal_books if b.mandate_id == MANDATE)
    equities = [
        (Decimal(p.quantity.value) * prices[p.instrument_id], p.instrument_id)
        for p in book.positions
        if instruments[p.instrument_id].currency == "USD"
        and instruments[p.instrument_id].asset_class == common_pb2.ASSET_CLASS_EQUITY
    ]
    return max(equities)[1]


def test_a_bad_print_makes_a_provisional_nav_that_the_ledger_comparison_explains(tmp_path: Path) -> None:
    market = start_service("market", tmp_path / "market", ENV)
    processes: list[ServiceProcess] = [market]
    try:
        market.wait_serving()
        peers = {**ENV, "OPSUITE_MARKET_ADDR": market.address}
        ledger = start_service("ledger", tmp_path / "ledger", peers)
        ledger.wait_listening()
        dq = start_service("dq", tmp_path / "dq", {**peers, "OPSUITE_LEDGER_ADDR": ledger.address})
        processes += [ledger, dq]
        dq.wait_listening()
        reporting = start_service(
            "reporting",
            tmp_path / "reporting",
            {**peers, "OPSUITE_LEDGER_ADDR": ledger.address, "OPSUITE_DQ_ADDR": dq.address},
        )
        processes.append(reporting)
        reporting.wait_listening()
        with (
            grpc.insecure_channel(market.address) as market_channel,
            grpc.insecure_channel(dq.address) as dq_channel,
            grpc.insecure_channel(reporting.address) as reporting_channel,
        ):
            market_stub = market_pb2_grpc.MarketServiceStub(market_channel)
            wait_until(
                lambda: (
                    market_stub.GetClock(market_pb2.GetClockRequest()).business_days_elapsed >= INJECT_AFTER
                ),
                timeout=120,
                what=f"market's day {INJECT_AFTER}",
            )
            instrument = _held_equity(market_stub)
            market_stub.InjectFault(
                market_pb2.InjectFaultRequest(
                    kind=market_pb2.FAULT_KIND_PRIMARY_PRICE_SPIKE, instrument_id=instrument
                )
            )
            wait_until(
                lambda: not market_stub.GetClock(market_pb2.GetClockRequest()).running,
                timeout=120,
                what="market's end",
            )
            [fault] = market_stub.ListInjectedFaults(
                market_pb2.ListInjectedFaultsRequest(kind=market_pb2.FAULT_KIND_PRIMARY_PRICE_SPIKE)
            ).faults
            bad_day = _date(fault.applied_date)
            [bad_tick] = fault.event_ids
            reporting.wait_serving()
            report_stub = reporting_pb2_grpc.ReportingServiceStub(reporting_channel)

            def report(day: dt.date) -> reporting_pb2.Report:
                return report_stub.GetReport(
                    reporting_pb2.GetReportRequest(mandate_id=MANDATE, as_of=date_to_proto(day))
                )

            # The comparison with the ledger trails the valuation: wait until it is made.
            bad = wait_until(
                lambda: (r := report(bad_day)).ledger.status in ("AGREES", "DIFFERS") and r,
                timeout=120,
                what="the bad day's comparison with the ledger",
            )
            dq_stub = dq_pb2_grpc.DqServiceStub(dq_channel)
            issues = dq_stub.ListIssues(dq_pb2.ListIssuesRequest(instrument_id=instrument)).issues

            # dq raised a critical issue on the primary's tick, quarantined it, and it resolved itself.
            primary = [i for i in issues if i.vendor == "primary" and bad_tick in i.caused_by]
            assert primary, [(i.issue_id, i.vendor, list(i.caused_by), i.message) for i in issues]
            assert any(i.severity == dq_pb2.SEVERITY_CRITICAL for i in primary)
            assert all(i.status == dq_pb2.ISSUE_STATUS_RESOLVED for i in primary)

            # Reporting valued the holding at the last good price, the day before's official one.
            [quarantined] = bad.quarantined_prices
            before = report(bad_day - dt.timedelta(days=1 if bad_day.weekday() else 3))
            assert quarantined.instrument_id == instrument and quarantined.dq_issue_id in {
                i.issue_id for i in primary
            }
            holding = next(h for h in bad.holdings if h.instrument_id == instrument)
            previous = next(h for h in before.holdings if h.instrument_id == instrument)
            assert holding.price.value == previous.price.value == quarantined.used_price.value
            assert quarantined.rejected_price.value != quarantined.used_price.value
            assert any(w.startswith(f"provisional: {instrument}'s price") for w in bad.warnings)
            # The ledger marked at the bad print: the NAVs differ by exactly the holding's effect, explained.
            effect = Decimal(quarantined.nav_effect.amount.value)
            assert effect == Decimal(holding.quantity.value) * (
                Decimal(quarantined.used_price.value) - Decimal(quarantined.rejected_price.value)
            )
            assert bad.ledger.status == "DIFFERS"
            assert Decimal(bad.ledger.difference.amount.value) == effect
            assert Decimal(bad.ledger.unexplained.amount.value) == 0
            assert [q.instrument_id for q in bad.ledger.quarantined_prices] == [instrument]
            assert "1 price quarantined by dq explain it" in bad.ledger.detail
            # The next day the print is right again: nothing quarantined, the NAVs agree.
            after = report(bad_day + dt.timedelta(days=3 if bad_day.weekday() == 4 else 1))
            assert not after.quarantined_prices and after.ledger.status == "AGREES"
    finally:
        for process in reversed(processes):
            process.stop()
