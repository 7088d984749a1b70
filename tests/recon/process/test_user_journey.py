"""As a user would: `opsuite up`, drop a trade at the custodian, watch recon raise the break at the
next day end, see it close itself when the custodian books the trade late (naming that booking), with
nothing posted to the ledger's suspense account (the ledger's cash never left the bank's), and follow
it with `opsuite trace`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.common.settings import SERVICES
from tests.support.processes import ROOT

SERVING = re.compile(r"✓ (\w+)\s+serving on (\S+)")


def _env(data_dir: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))}
    return {
        **base,
        **{f"OPSUITE_{name.upper()}_ADDR": "127.0.0.1:0" for name in (*SERVICES, "edge")},
        "OPSUITE_DATA_DIR": str(data_dir),
        "OPSUITE_SHUTDOWN_GRACE_S": "5",
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "220",
        # The journey needs no document answers; the model would only take CPU from the run.
        "OPSUITE_DOCUMENTS_USE_MODEL": "false",
        # It injects a fault (InjectFault): opsuite up allows that already; the test says it relies on it.
        "OPSUITE_ALLOW_FAULT_INJECTION": "true",
    }


@pytest.mark.slow
def test_a_dropped_trade_from_tick_to_its_late_booking(tmp_path: Path) -> None:
    env = _env(tmp_path)
    # 200 days at 3 a second: room for the fault, injected once every service serves (much later on
    # a busy machine: a CI run once took longer to start the suite than 80 days lasted), to be found
    # and to age into suspense before the market's last day.
    up = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "up", "--no-view", "--speed", "3", "--days", "200",
         "--seed", "21", "--start", "2020-02-03", "--fault-rate", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    addresses: dict[str, str] = {}
    try:
        assert up.stdout is not None
        for line in up.stdout:
            if match := SERVING.search(line):
                addresses[match[1]] = match[2]
            if "all services serving" in line or "start-up failed" in line:
                break
        assert set(addresses) == set(SERVICES), addresses
        with (
            grpc.insecure_channel(addresses["market"]) as market_channel,
            grpc.insecure_channel(addresses["recon"]) as recon_channel,
            grpc.insecure_channel(addresses["ledger"]) as ledger_channel,
        ):
            market = market_pb2_grpc.MarketServiceStub(market_channel)
            recon = recon_pb2_grpc.ReconServiceStub(recon_channel)
            ledger = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
            mandate = market.ListMandates(market_pb2.ListMandatesRequest()).mandates[0].mandate_id
            fault = market.InjectFault(
                market_pb2.InjectFaultRequest(
                    kind=market_pb2.FAULT_KIND_CUSTODIAN_DROP_TRADE, mandate_id=mandate
                )
            )

            # Follow recon's changes as they happen until the dropped trade's break closes itself.
            dropped: recon_pb2.Break | None = None
            closed: recon_pb2.Break | None = None
            watch = recon.WatchBreaks(recon_pb2.WatchBreaksRequest(), timeout=120)
            for change in watch:
                record = change.record
                applied = next(
                    f
                    for f in market.ListInjectedFaults(market_pb2.ListInjectedFaultsRequest()).faults
                    if f.fault_id == fault.fault_id
                )
                if applied.status != market_pb2.FAULT_STATUS_APPLIED:
                    continue
                ours = record.fill_id == applied.fill_id and record.scope == recon_pb2.SCOPE_TRADE
                if ours and record.kind == recon_pb2.BREAK_KIND_MISSING_AT_CUSTODIAN and dropped is None:
                    dropped = record
                    # Raised at the first day end after the trade: first seen on the fault's date.
                    assert (record.first_seen_date.year, record.first_seen_date.month, record.first_seen_date.day) == (
                        applied.applied_date.year, applied.applied_date.month, applied.applied_date.day,
                    )  # fmt: skip
                    assert "booking deadline" in record.description and "due by" not in record.description
                if ours and record.status == recon_pb2.BREAK_STATUS_RESOLVED:
                    closed = record
                    break
            watch.cancel()
            assert dropped is not None, "recon never raised the dropped trade"
            assert closed is not None and closed.break_id == dropped.break_id
            corrected = next(
                f
                for f in market.ListInjectedFaults(market_pb2.ListInjectedFaultsRequest()).faults
                if f.fault_id == fault.fault_id
            )
            # closed at the day end the custodian booked it, by that booking
            assert closed.resolved_by_event_id in corrected.correction_event_ids
            assert closed.last_seen_date.SerializeToString() != b"" and corrected.HasField("corrected_date")
            journals = ledger.GetLedger(
                ledger_pb2.GetLedgerRequest(
                    mandate_id=closed.mandate_id, kind=ledger_pb2.JOURNAL_KIND_SUSPENSE
                )
            ).journals
            assert list(journals) == []

            trace = subprocess.run(
                [sys.executable, "-m", "services.cli", "trace", closed.break_id],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert trace.returncode == 0, trace.stderr
            out = trace.stdout
            order = [out.index(marker) for marker in ("trade.fill", "break.opened", "break.resolved")]
            assert order == sorted(order), out
    finally:
        up.send_signal(signal.SIGINT)
        rest, _ = up.communicate(timeout=60)
    assert up.returncode == 0, rest
    for name in ("market", "ledger", "dq", "recon", "reporting"):
        assert f"stopped {name} (exit code 0)" in rest
