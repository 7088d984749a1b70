"""The period close through the running service: a ledger keeping 20 business days follows a real
market run of 60 and ends with the same books as a ledger that keeps everything, holding only the
journals of its last few weeks."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import grpc
import pytest

from opsuite.common.v1 import common_pb2
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from services.common.calendar import BusinessCalendar
from services.common.convert import date_from_proto, date_to_proto
from services.common.status import details_of, status_from_error
from services.ledger.domain.retention import Retention
from services.ledger.store.factory import SQLITE_FILE
from tests.ledger.process.conftest import wait_finished, world_env
from tests.support.processes import ServiceProcess, start_service

KEEP = 20
DAYS = 60
WEEKDAYS = BusinessCalendar()


def _listing(stub: ledger_pb2_grpc.LedgerServiceStub, start: dt.date | None) -> list[str]:
    """The idempotency keys GetLedger lists (every page), from `start` or with no start."""
    dates = common_pb2.DateRange(start=date_to_proto(start)) if start else common_pb2.DateRange()
    keys: list[str] = []
    token = ""
    while True:
        page = stub.GetLedger(ledger_pb2.GetLedgerRequest(dates=dates, page_size=1000, page_token=token))
        keys.extend(j.idempotency_key for j in page.journals)
        if not (token := page.next_page_token):
            return keys


def _stored(data_dir: Path) -> tuple[dt.date, int, int, dt.date]:
    """(closed_before, journal rows, business days with journals, earliest date) read from the file."""
    path = data_dir / "ledger" / SQLITE_FILE
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        (closed_before,) = conn.execute("SELECT closed_before FROM ledger_state").fetchone()
        rows, days, first = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT effective_date), MIN(effective_date) FROM journals"
        ).fetchone()
    finally:
        conn.close()
    return dt.date.fromisoformat(closed_before), rows, days, dt.date.fromisoformat(first)


def _closes(ledger: ServiceProcess) -> list[dict[str, object]]:
    return [
        record
        for line in ledger.log_text().splitlines()
        if line.startswith("{")
        and (record := json.loads(line)).get("message") == "closed the ledger's period"
    ]


def test_a_ledger_keeping_20_days_ends_with_the_books_of_one_keeping_everything(tmp_path: Path) -> None:
    market = start_service("market", tmp_path / "market", world_env(OPSUITE_DAYS=str(DAYS)))
    ledgers: list[ServiceProcess] = []
    try:
        market.wait_serving()
        clock = wait_finished(market)
        latest = date_from_proto(clock.sim_date, "sim_date")
        env = {**world_env(OPSUITE_DAYS=str(DAYS)), "OPSUITE_MARKET_ADDR": market.address}
        # Both follow the finished run at once; SERVING means caught up with market's head.
        closing = start_service(
            "ledger", tmp_path / "closing", {**env, "OPSUITE_LEDGER_KEEP_DAYS": str(KEEP)}
        )
        keeping = start_service("ledger", tmp_path / "keeping", {**env, "OPSUITE_LEDGER_KEEP_DAYS": "0"})
        ledgers = [closing, keeping]
        for ledger in ledgers:
            ledger.wait_serving()
        with (
            grpc.insecure_channel(market.address) as mc,
            grpc.insecure_channel(closing.address) as cc,
            grpc.insecure_channel(keeping.address) as kc,
        ):
            mandate_ids = [
                m.mandate_id
                for m in market_pb2_grpc.MarketServiceStub(mc)
                .ListMandates(market_pb2.ListMandatesRequest())
                .mandates
            ]
            closed, kept = ledger_pb2_grpc.LedgerServiceStub(cc), ledger_pb2_grpc.LedgerServiceStub(kc)

            # The store holds only the last weeks: the horizon is 20 to 20 + step - 1 business days
            # before market's last date, and no journal before it is left.
            horizon, rows, days, first = _stored(tmp_path / "closing")
            step = Retention(KEEP).step
            assert WEEKDAYS.add(latest, -(KEEP + step - 1)) <= horizon <= WEEKDAYS.add(latest, -KEEP)
            assert first >= horizon and days <= KEEP + step
            # ... exactly the journals of the full ledger dated from the horizon on, a third of them.
            everything = _listing(kept, None)
            from_horizon = _listing(kept, horizon)
            assert sorted(_listing(closed, None)) == sorted(from_horizon)
            assert rows == len(from_horizon) < len(everything) / 2
            assert _closes(closing) and _closes(closing)[-1]["closed_before"] == horizon.isoformat()
            assert not _closes(keeping)

            for mandate_id in mandate_ids:
                # The books are the same, account by account, and balance.
                request = ledger_pb2.GetTrialBalanceRequest(mandate_id=mandate_id)
                mine, reference = closed.GetTrialBalance(request), kept.GetTrialBalance(request)
                assert list(mine.lines) == list(reference.lines) and mine.lines
                assert (mine.balanced, mine.journal_count) == (True, reference.journal_count)
                assert list(mine.totals) == list(reference.totals)
                # As of the horizon too; before it, refused naming the first date kept.
                at = ledger_pb2.GetBalancesRequest(mandate_id=mandate_id, as_of=date_to_proto(horizon))
                assert list(closed.GetBalances(at).balances) == list(kept.GetBalances(at).balances)
                before = ledger_pb2.GetBalancesRequest(
                    mandate_id=mandate_id, as_of=date_to_proto(horizon - dt.timedelta(days=1))
                )
                with pytest.raises(grpc.RpcError) as refused:
                    closed.GetBalances(before)
                assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
                assert refused.value.details().startswith(
                    f"the ledger closed the period before {horizon.isoformat()}"
                    f" (OPSUITE_LEDGER_KEEP_DAYS keeps {KEEP} business days); balances as of"
                )
                status = status_from_error(refused.value)
                assert status is not None
                _, info = details_of(status)
                assert info is not None and info.reason == "PERIOD_CLOSED"
                assert kept.GetBalances(before).balances  # the other ledger still answers
    finally:
        for ledger in ledgers:
            ledger.stop()
        market.stop()
