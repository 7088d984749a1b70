"""opsuite recon against a finished suite: one row per mandate, checked against recon's GetReconciliation."""

from __future__ import annotations

import json
from collections import Counter

import grpc

from opsuite.common.v1 import common_pb2
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from tests.cli.conftest import RunningSuite


def _reconciliation(suite: RunningSuite) -> recon_pb2.Reconciliation:
    with grpc.insecure_channel(suite.addresses["recon"]) as channel:
        return recon_pb2_grpc.ReconServiceStub(channel).GetReconciliation(
            recon_pb2.GetReconciliationRequest(), timeout=10
        )


def _date(value: common_pb2.Date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _cells(line: str) -> list[str]:
    """The cells of one table line (the header's rules are heavier: ┃ rather than │)."""
    return [cell.strip() for cell in line.replace("┃", "│").strip().strip("│").split("│")]


def test_one_row_per_mandate_with_its_day_and_counts(finished_suite: RunningSuite) -> None:
    expected = _reconciliation(finished_suite)
    assert expected.mandates, "recon reconciled no mandate"
    result = finished_suite.opsuite("recon")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"reconciliation as of {_date(expected.as_of_date)}" in out
    header = _cells(next(line for line in out.splitlines() if "mandate" in line and "last checked" in line))
    assert header[:4] == ["mandate", "last checked", "open breaks", "to work"]
    assert [f"aged {b.bucket}" for b in expected.mandates[0].buckets] == header[
        4 : 4 + len(expected.mandates[0].buckets)
    ]
    for mandate in expected.mandates:
        row = _cells(next(line for line in out.splitlines() if f"│ {mandate.mandate_id} " in line))
        cells = dict(zip(header, row, strict=True))
        assert cells["last checked"] == max(_date(r.as_of_date) for r in mandate.latest_runs)
        assert cells["open breaks"] == f"{len(mandate.open_breaks):,}"
        assert cells["escalated"] == f"{mandate.escalated_count:,}"
        assert cells["timing items"] == f"{len(mandate.timing_items):,}"
        for bucket in mandate.buckets:
            assert cells[f"aged {bucket.bucket}"] == f"{bucket.count:,}"
    if not any(m.open_breaks for m in expected.mandates):
        assert out.rstrip().endswith("no open breaks")


def test_json_has_the_same_figures_per_mandate(finished_suite: RunningSuite) -> None:
    expected = _reconciliation(finished_suite)
    result = finished_suite.opsuite("recon", "-o", "json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["as_of_date"] == _date(expected.as_of_date)
    by_mandate = {m["mandate"]: m for m in summary["mandates"]}
    assert sorted(by_mandate) == sorted(m.mandate_id for m in expected.mandates)
    for mandate in expected.mandates:
        got = by_mandate[mandate.mandate_id]
        kinds = Counter(
            recon_pb2.BreakKind.Name(b.kind).removeprefix("BREAK_KIND_").lower() for b in mandate.open_breaks
        )
        assert got["open_breaks"] == len(mandate.open_breaks)
        assert got["to_work"] == sum(1 for b in mandate.open_breaks if not b.parent_break_id)
        assert got["by_kind"] == dict(kinds)
        assert {k: v["count"] for k, v in got["buckets"].items()} == {
            b.bucket: b.count for b in mandate.buckets
        }
        assert all(isinstance(v["base_amount"], str) for v in got["buckets"].values())


def test_one_mandate_or_a_clear_refusal(finished_suite: RunningSuite) -> None:
    mandates = [m.mandate_id for m in _reconciliation(finished_suite).mandates]
    one = finished_suite.opsuite("recon", "--mandate", mandates[0])
    assert one.returncode == 0, one.stderr
    assert f"│ {mandates[0]} " in one.stdout
    assert not any(f"│ {other} " in one.stdout for other in mandates[1:])
    unknown = finished_suite.opsuite("recon", "--mandate", "NOPE-XXX")
    assert unknown.returncode == 2
    message = unknown.stderr.strip()
    assert message.startswith("opsuite recon: recon knows no mandate 'NOPE-XXX'") and "\n" not in message
    assert all(m in message for m in mandates)
