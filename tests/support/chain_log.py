"""A combined event log built by hand for the chain tests (services/common/trace_chain, recon's
GetChain): a price tick of another trace, a fill, two breaks of the fill (BRK-1 aged into suspense,
posted as ledger journal J1; BRK-2 only opened) and the custodian's booking of the fill (mkt-3), a
cause of BRK-1 that outlives the fill when market's retention trims its two oldest events."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from opsuite.market.v1 import market_pb2
from services.common.eventlog import EventLog, NewRecord, open_event_log

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
OTHER = "00f067aa0ba902b700f067aa0ba902b7"
T0 = dt.datetime(2020, 3, 2, 16, 30, tzinfo=dt.UTC)


def _market(seq: int, kind: str, event: market_pb2.MarketEvent, trace: str, at: dt.datetime) -> NewRecord:
    event.envelope.seq, event.envelope.kind = seq, kind
    return NewRecord(
        event_id=f"mkt-{seq}",
        kind=kind,
        sim_time=at,
        payload=event.SerializeToString(),
        trace_id=trace,
        seq=seq,
    )


def fill_event() -> market_pb2.MarketEvent:
    event = market_pb2.MarketEvent()
    fill = event.fill
    fill.fill_id, fill.instrument_id, fill.side, fill.mandate_id = (
        "FIL-1",
        "US-NWSF",
        market_pb2.SIDE_BUY,
        "BAL-USD",
    )
    fill.quantity.value, fill.price.value = "1000", "12.50"
    fill.net_amount.amount.value, fill.net_amount.currency = "12508.75", "USD"
    return event


def booking_event() -> market_pb2.MarketEvent:
    event = market_pb2.MarketEvent()
    booked = event.custodian_trade
    booked.custodian_ref, booked.fill_id, booked.instrument_id = "CUS-7", "FIL-1", "US-NWSF"
    booked.quantity.value, booked.price.value = "100", "12.50"
    return event


def _recon(event_id: str, kind: str, day: int, caused_by: tuple[str, ...], summary: str) -> NewRecord:
    return NewRecord(
        event_id=event_id,
        kind=kind,
        sim_time=T0.replace(day=day, hour=23),
        trace_id=TRACE,
        caused_by=caused_by,
        mandate_id="BAL-USD",
        summary=summary,
    )


def build(data_dir: Path) -> EventLog:
    """The log (SQLite under data_dir), open: the caller closes it."""
    log = open_event_log(None, data_dir)
    log.append(
        "market",
        [
            _market(1, "price.tick", market_pb2.MarketEvent(), OTHER, T0.replace(hour=16, minute=0)),
            _market(2, "trade.fill", fill_event(), TRACE, T0),
            _market(3, "custodian.trade", booking_event(), TRACE, T0.replace(hour=18)),
        ],
    )
    log.append(
        "recon",
        [
            _recon("rec-BRK-1-opened-2020-03-02", "break.opened", 2, ("mkt-2", "mkt-3"), "BRK-1 opened"),
            _recon("rec-BRK-2-opened-2020-03-02", "break.opened", 2, ("mkt-2",), "BRK-2 opened"),
            _recon("rec-BRK-1-aged-2020-03-05", "break.aged", 5, ("mkt-2", "mkt-3"), "BRK-1 aged 3 days"),
            _recon("rec-BRK-1-suspense-v1", "break.suspense_posted", 5, ("BRK-1",), "BRK-1 journal J1"),
        ],
    )
    log.append(
        "ledger",
        [
            NewRecord(
                event_id="ldg-J1",
                kind="journal.posted",
                sim_time=T0.replace(day=5, hour=23, minute=59),
                trace_id=TRACE,
                caused_by=("BRK-1",),  # a suspense journal names the break it posts for
                mandate_id="BAL-USD",
                summary="suspense journal J1 for BRK-1",
            )
        ],
    )
    return log
