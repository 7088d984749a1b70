"""opsuite trace over a real combined event log: a fill, its custodian message, a break, a journal."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from opsuite.market.v1 import market_pb2
from services.common.eventlog import NewRecord, open_event_log
from tests.support.processes import ROOT

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


def _fill() -> market_pb2.MarketEvent:
    event = market_pb2.MarketEvent()
    fill = event.fill
    fill.fill_id, fill.instrument_id, fill.side = "F-1", "US-NWSF", market_pb2.SIDE_BUY
    fill.quantity.value, fill.price.value = "100", "12.50"
    fill.net_amount.amount.value, fill.net_amount.currency = "1251.00", "USD"
    return event


def _build(data_dir: Path) -> None:
    log = open_event_log(None, data_dir)
    try:
        log.append(
            "market",
            [
                _market(1, "price.tick", market_pb2.MarketEvent(), OTHER, T0.replace(hour=16, minute=0)),
                _market(2, "trade.fill", _fill(), TRACE, T0),
            ],
        )
        log.append(
            "recon",
            [
                NewRecord(
                    event_id="rec-BRK-1-opened-2020-03-02",
                    kind="break.opened",
                    sim_time=T0.replace(hour=23),
                    trace_id=TRACE,
                    caused_by=("mkt-2",),
                    summary="BRK-1 opened: missing at custodian US-NWSF 100",
                ),
                NewRecord(
                    event_id="rec-BRK-1-aged-2020-03-05",
                    kind="break.aged",
                    sim_time=T0.replace(day=5, hour=23),
                    trace_id=TRACE,
                    caused_by=("mkt-2",),
                    summary="BRK-1 aged 3 business days",
                ),
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
                    caused_by=("rec-BRK-1-aged-2020-03-05",),
                    summary="suspense journal J1 for BRK-1",
                )
            ],
        )
    finally:
        log.close()


def _trace(identifier: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "trace", identifier],
        cwd=ROOT, env={**env, "OPSUITE_DATA_DIR": str(data_dir), "COLUMNS": "200"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_trace_prints_the_chain_in_order_from_an_event_or_a_trace_id(tmp_path: Path) -> None:
    _build(tmp_path)
    for identifier in ("mkt-2", TRACE, "ldg-J1"):
        result = _trace(identifier, tmp_path)
        assert result.returncode == 0, result.stderr
        lines = result.stdout
        positions = [
            lines.index(marker) for marker in ("mkt-2", "rec-BRK-1-opened", "rec-BRK-1-aged", "ldg-J1")
        ]
        assert positions == sorted(positions), lines
        assert "BUY 100 US-NWSF @ 12.50" in lines
        assert "mkt-1" not in lines  # the price tick of another trace is not part of the chain


def test_trace_of_an_unknown_id_says_what_it_looked_for(tmp_path: Path) -> None:
    _build(tmp_path)
    result = _trace("mkt-999", tmp_path)
    assert result.returncode == 2
    assert "no event 'mkt-999'" in result.stderr
