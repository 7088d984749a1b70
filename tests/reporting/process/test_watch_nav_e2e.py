"""WatchNav against a real reporting following a live market (4 business days a second): each mandate's
latest NAV first, then the NAV of a day end market published after the watch started, the same as
GetNavHistory then gives for it. (That a cancelled watch frees its waiter, resuming and every refusal:
tests/reporting/service/test_watch_nav.py.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from opsuite.reporting.v1 import reporting_pb2 as pb
from opsuite.reporting.v1 import reporting_pb2_grpc
from tests.support.processes import ServiceProcess, start_service

# Without dq and the ledger: the NAV is reporting's own, from market's stream.
LIVE = {
    "OPSUITE_SEED": "21",
    "OPSUITE_START": "2020-02-03",
    "OPSUITE_DAYS": "250",
    "OPSUITE_SPEED": "4",
    "OPSUITE_REPORTING_USE_DQ": "false",
    "OPSUITE_REPORTING_USE_LEDGER": "false",
}
WAIT_S = 30.0  # a deadline for what must come, not a pause


@dataclass
class Live:
    reporting: ServiceProcess
    stub: reporting_pb2_grpc.ReportingServiceStub


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root: Path = tmp_path_factory.mktemp("live-reporting")
    market = start_service("market", root / "market", LIVE)
    reporting: ServiceProcess | None = None
    try:
        market.wait_serving()
        reporting = start_service(
            "reporting",
            root / "reporting",
            # A long grace: an open watch that held reporting at SIGTERM would hold it 60 s.
            {**LIVE, "OPSUITE_MARKET_ADDR": market.address, "OPSUITE_SHUTDOWN_GRACE_S": "60"},
        )
        reporting.wait_serving()  # caught up with the live head
        with grpc.insecure_channel(reporting.address) as channel:
            yield Live(reporting, reporting_pb2_grpc.ReportingServiceStub(channel))
    finally:
        if reporting is not None:
            reporting.stop()
        market.stop()


def test_the_latest_navs_then_a_day_end_valued_after_the_watch_started(live: Live) -> None:
    mandates = list(live.stub.ListMandates(pb.ListMandatesRequest()).mandates)
    stream = live.stub.WatchNav(pb.WatchNavRequest(), timeout=WAIT_S)
    current = [next(stream) for _ in mandates]
    assert all(c.current for c in current) and {c.mandate_id for c in current} == {
        m.mandate_id for m in mandates
    }
    started = max(c.as_of_seq for c in current)
    change = next(stream)  # market's next day end, valued: no call of ours makes it
    stream.cancel()
    assert not change.current and change.as_of_seq > started
    assert change.as_of_date.year >= 2020 and change.nav.nav.currency == change.base_currency
    day = (change.as_of_date.year, change.as_of_date.month, change.as_of_date.day)
    history = live.stub.GetNavHistory(pb.GetNavHistoryRequest(mandate_id=change.mandate_id, page_size=1000))
    point = next(p for p in history.points if (p.date.year, p.date.month, p.date.day) == day)
    assert (point.nav, point.nav_per_unit, point.units_outstanding, point.net_flows) == (
        change.nav.nav,
        change.nav.nav_per_unit,
        change.nav.units_outstanding,
        change.net_flows,
    )
    assert point.daily_return == change.daily_return
    assert point.benchmark_daily_return == change.benchmark_daily_return


def test_one_mandate_watched_gets_only_its_navs(live: Live) -> None:
    mandate = live.stub.ListMandates(pb.ListMandatesRequest()).mandates[-1].mandate_id
    stream = live.stub.WatchNav(pb.WatchNavRequest(mandate_id=mandate), timeout=WAIT_S)
    first, second = next(stream), next(stream)
    stream.cancel()
    assert (first.mandate_id, second.mandate_id) == (mandate, mandate)
    assert first.current and not second.current and second.as_of_seq > first.as_of_seq


def test_sigterm_ends_an_open_watch_saying_where_to_resume_and_reporting_exits_0(live: Live) -> None:
    """Last in the module: it stops reporting."""
    stream = live.stub.WatchNav(pb.WatchNavRequest(), timeout=WAIT_S)
    next(stream)
    started = time.monotonic()
    assert live.reporting.stop() == 0
    assert time.monotonic() - started < 30  # not held for the grace period (60 s here)
    with pytest.raises(grpc.RpcError) as ended:
        for _ in stream:
            pass
    assert ended.value.code() == grpc.StatusCode.UNAVAILABLE, ended.value.details()
    assert "reporting is shutting down; watch again with after_seq=" in (ended.value.details() or "")
