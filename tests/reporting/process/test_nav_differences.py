"""A difference between reporting's NAV and the ledger's, as an operations team meets one.

A controller posts a manual journal in the ledger (grpcurl PostJournal): the fund pays 250.00 of
fees the desk's book knows nothing of. Reporting's NAV is now 250.00 above the ledger's equity at
market; the report says so, names the journal as the cause (its effect -250.00, nothing left
unexplained), and the difference is a record in the combined event log that `opsuite trace`
follows to the journal. Reversing the journal brings the two back together, and that too is
recorded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal

import grpc
import pytest

from opsuite.reporting.v1 import reporting_pb2, reporting_pb2_grpc
from services.common.eventlog import open_event_log
from tests.market.process.test_grpcurl import _grpcurl
from tests.reporting.process.conftest import Suite, running_suite
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    root = tmp_path_factory.mktemp("nav-differences")
    env = {
        "OPSUITE_SEED": "4", "OPSUITE_START": "2020-02-03", "OPSUITE_DAYS": "12", "OPSUITE_SPEED": "max",
        "OPSUITE_FAULT_RATE": "0", "OPSUITE_EVENTLOG_URL": f"sqlite:///{root}/eventlog.sqlite3",
    }  # fmt: skip
    # Its own suite: the journal it posts changes the books the other reporting tests read.
    with running_suite(root, env) as running:
        yield running


def _report(suite: Suite) -> reporting_pb2.Report:
    with grpc.insecure_channel(suite.reporting.address) as channel:
        return reporting_pb2_grpc.ReportingServiceStub(channel).GetReport(
            reporting_pb2.GetReportRequest(mandate_id="BAL-USD"), timeout=10
        )


def _ledger(suite: Suite, method: str, body: dict[str, object]) -> dict[str, object]:
    result = subprocess.run(
        [_grpcurl(), "-plaintext", "-d", json.dumps(body), suite.ledger.address,
         f"opsuite.ledger.v1.LedgerService/{method}"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_a_manual_journal_is_the_named_cause_of_the_difference_and_trace_reaches_it(suite: Suite) -> None:
    wait_until(lambda: _report(suite).ledger.status == "AGREES", timeout=60, what="the last day end compared")
    report = _report(suite)
    date = {"year": report.as_of.year, "month": report.as_of.month, "day": report.as_of.day}
    posted = _ledger(
        suite,
        "PostJournal",
        {
            "idempotency_key": "controller-fee-1", "mandate_id": "BAL-USD", "kind": "JOURNAL_KIND_MANUAL",
            "effective_date": date, "memo": "audit fee paid from the fund", "posted_by": "a.controller",
            "postings": [
                {"account": "Expenses:Fees:USD", "amount": {"amount": {"value": "250.00"}, "currency": "USD"}},
                {"account": "Assets:Cash:USD", "amount": {"amount": {"value": "-250.00"}, "currency": "USD"}},
            ],
        },
    )  # fmt: skip
    journal_id = posted["journal"]["journal_id"]  # type: ignore[index]

    wait_until(
        lambda: _report(suite).ledger.event_id.endswith("-250.00"),
        timeout=60,
        what="reporting to record the difference",
    )
    ledger = _report(suite).ledger
    assert Decimal(ledger.difference.amount.value) == Decimal("250.00")
    (cause,) = ledger.causes
    assert (cause.journal_id, cause.posted_by, cause.memo) == (
        journal_id,
        "a.controller",
        "audit fee paid from the fund",
    )
    assert Decimal(cause.equity_effect.amount.value) == Decimal("-250.00")
    assert Decimal(ledger.unexplained.amount.value) == 0
    assert ledger.event_id

    log = open_event_log(suite.env["OPSUITE_EVENTLOG_URL"], None)
    try:
        record = log.get(ledger.event_id)
    finally:
        log.close()
    assert record is not None and record.kind == "reporting.nav_difference"
    assert record.caused_by == (f"ldg-{journal_id}",) and len(record.trace_id) == 32
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_"))}
    traced = subprocess.run(
        [sys.executable, "-m", "services.cli", "trace", ledger.event_id],
        env={**env, **suite.env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert traced.returncode == 0, traced.stderr
    assert journal_id in traced.stdout and "reporting.nav_difference" in traced.stdout

    _ledger(
        suite,
        "ReverseJournal",
        {"journal_id": journal_id, "reason": "posted to the wrong fund", "effective_date": date},
    )
    wait_until(
        lambda: _report(suite).ledger.status == "AGREES", timeout=60, what="the reversal to close the gap"
    )
    assert _report(suite).ledger.event_id.endswith("-agrees")
