"""opsuite breaks and opsuite break against a finished suite: what a person reads, checked against recon.

recon's own answer (ListBreaks / GetBreak over gRPC) is the reference: every break it has is
listed whole, in the order a person works them, with the filters narrowing exactly as recon's do.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import grpc
import pytest

from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from tests.cli.conftest import RunningSuite, run_opsuite
from tests.support.ports import free_ports


def _recon_breaks(
    suite: RunningSuite, request: recon_pb2.ListBreaksRequest | None = None
) -> list[recon_pb2.Break]:
    request = request or recon_pb2.ListBreaksRequest()
    request.page_size = 1000
    with grpc.insecure_channel(suite.addresses["recon"]) as channel:
        reply = recon_pb2_grpc.ReconServiceStub(channel).ListBreaks(request, timeout=10)
    assert not reply.next_page_token, "more breaks than one page: page through them here too"
    return list(reply.breaks)


def _mandates(suite: RunningSuite) -> list[str]:
    with grpc.insecure_channel(suite.addresses["recon"]) as channel:
        reply = recon_pb2_grpc.ReconServiceStub(channel).GetReconciliation(
            recon_pb2.GetReconciliationRequest(), timeout=10
        )
    return [m.mandate_id for m in reply.mandates]


def _base(brk: recon_pb2.Break) -> Decimal:
    value = brk.base_amount_difference.amount.value
    return abs(Decimal(value)) if value else Decimal(-1)


def _work_order(breaks: list[recon_pb2.Break]) -> list[str]:
    return [b.break_id for b in sorted(breaks, key=lambda b: (-b.age_business_days, -_base(b), b.break_id))]


def _position(text: str, break_id: str) -> int:
    """Where the id is printed whole (BRK-x is a prefix of BRK-x-2, a later generation's id)."""
    found = re.search(re.escape(break_id) + r"(?![\w-])", text)
    assert found, f"{break_id} is not printed whole:\n{text}"
    return found.start()


def _line_of(text: str, break_id: str) -> str:
    whole = re.compile(re.escape(break_id) + r"(?![\w-])")
    lines = [line for line in text.splitlines() if whole.search(line)]
    assert lines, f"{break_id} is not printed whole:\n{text}"
    return lines[0]


def test_every_break_is_listed_whole_oldest_first_then_largest(finished_suite: RunningSuite) -> None:
    every = _recon_breaks(finished_suite)
    assert every, "the suite's run has no break at all: nothing to list"
    result = finished_suite.opsuite("breaks", "--status", "all")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    printed = [bid for bid in sorted((b.break_id for b in every), key=lambda bid: _position(out, bid))]
    assert printed == _work_order(every)
    assert f"{len(every)} breaks of any status" in out
    amounts = [
        b
        for b in every
        if b.HasField("amount_difference") and abs(Decimal(b.amount_difference.amount.value)) >= 1000
    ]
    assert amounts, "no break of 1,000 or more to show grouping"
    ends = set()
    for brk in amounts:
        shown = f"{Decimal(brk.amount_difference.amount.value):,}"
        line = _line_of(out, brk.break_id)
        assert f" {shown} │ {brk.currency} │" in line, line  # grouped, in its currency
        ends.add(line.index(f" {shown} │") + len(shown) + 1)
    assert len(ends) == 1, "amounts are not right-aligned in one column"


def test_without_a_status_only_open_breaks_are_listed(finished_suite: RunningSuite) -> None:
    open_ones = _recon_breaks(
        finished_suite,
        recon_pb2.ListBreaksRequest(
            statuses=[recon_pb2.BREAK_STATUS_OPEN, recon_pb2.BREAK_STATUS_INVESTIGATING]
        ),
    )
    closed = [b for b in _recon_breaks(finished_suite) if b not in open_ones]
    result = finished_suite.opsuite("breaks")
    assert result.returncode == 0, result.stderr
    for brk in open_ones:
        assert brk.break_id in result.stdout
    for brk in closed:
        assert brk.break_id not in result.stdout
    if not open_ones:
        assert result.stdout.strip() == "no open or investigating breaks"


def test_filters_narrow_as_recon_does_and_json_keeps_amounts_exact(finished_suite: RunningSuite) -> None:
    every = _recon_breaks(finished_suite)
    mandate = max(_mandates(finished_suite), key=lambda m: sum(b.mandate_id == m for b in every))
    expected = [
        b
        for b in every
        if b.mandate_id == mandate
        and b.status == recon_pb2.BREAK_STATUS_RESOLVED
        and b.age_business_days >= 2
        and _base(b) >= 1000
    ]
    assert expected, f"no resolved break of {mandate} aged 2+ with 1,000 or more: pick other filters"
    result = finished_suite.opsuite(
        "breaks", "--mandate", mandate, "--status", "RESOLVED", "--min-age", "2", "--min-amount", "1,000",
        "-o", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == _work_order(expected)
    by_id = {b.break_id: b for b in expected}
    for row in rows:
        brk = by_id[row["id"]]
        assert (row["mandate"], row["status"], row["age"]) == (mandate, "resolved", brk.age_business_days)
        assert isinstance(row["amount"], str) and row["amount"] == brk.amount_difference.amount.value


def test_kinds_are_taken_by_short_name_in_any_case(finished_suite: RunningSuite) -> None:
    every = _recon_breaks(finished_suite)
    kind = max({b.kind for b in every}, key=lambda k: sum(b.kind == k for b in every))
    short = recon_pb2.BreakKind.Name(kind).removeprefix("BREAK_KIND_")
    typed = short.title().replace("_", "-")  # Settlement-Date-Mismatch, as a person might type it
    result = finished_suite.opsuite("breaks", "--kind", typed, "--status", "all", "-o", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["id"] for r in rows} == {b.break_id for b in every if b.kind == kind}
    assert {r["kind"] for r in rows} == {short.lower()}


def test_an_unknown_mandate_is_refused_with_the_known_ones(finished_suite: RunningSuite) -> None:
    result = finished_suite.opsuite("breaks", "--mandate", "NOPE-XXX")
    assert result.returncode == 2
    assert result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message and "NOPE-XXX" in message and "--mandate" in message
    for mandate in _mandates(finished_suite):
        assert mandate in message


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("--kind", "wrong_kind", ["quantity_mismatch", "cash_mismatch", "settlement_date_mismatch"]),
        ("--status", "closed", ["open", "investigating", "resolved", "written_off", "all"]),
    ],
)
def test_an_unknown_kind_or_status_names_the_accepted_ones(
    finished_suite: RunningSuite, option: str, value: str, named: list[str]
) -> None:
    result = finished_suite.opsuite("breaks", option, value)
    assert result.returncode == 2
    message = result.stderr.strip()
    assert "\n" not in message and repr(value) in message and option in message
    for name in named:
        assert name in message


def test_breaks_without_recon_names_the_address_and_what_to_run() -> None:
    address = f"127.0.0.1:{free_ports(1)[0]}"
    result = run_opsuite("breaks", env={"OPSUITE_RECON_ADDR": address})
    assert result.returncode == 1
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in message
    assert address in message and "opsuite up" in message and "opsuite status" in message


def _family(suite: RunningSuite) -> tuple[recon_pb2.Break, list[recon_pb2.Break]]:
    """A break with children grouped under it, and those children."""
    every = _recon_breaks(suite)
    parents = {b.parent_break_id for b in every if b.parent_break_id}
    assert parents, "no break of this run has children"
    parent = next(b for b in every if b.break_id in parents)
    return parent, [b for b in every if b.parent_break_id == parent.break_id]


def test_one_break_shows_its_children_causes_and_history(finished_suite: RunningSuite) -> None:
    parent, children = _family(finished_suite)
    result = finished_suite.opsuite("break", parent.break_id)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"break {parent.break_id}" in out
    assert parent.description.split(":")[0] in out
    assert f"grouped under it ({len(children)} children)" in out
    for child in children:
        _line_of(out, child.break_id)
    for cause in parent.caused_by:
        assert "cause" in _line_of(out, f" {cause} ")
    assert "history, oldest first" in out and "opened" in out
    if parent.status == recon_pb2.BREAK_STATUS_RESOLVED:
        assert "auto_resolved" in out or "status_changed" in out
    assert f"opsuite trace {parent.break_id}" in out


def test_a_child_break_names_the_break_it_is_grouped_under(finished_suite: RunningSuite) -> None:
    parent, children = _family(finished_suite)
    result = finished_suite.opsuite("break", children[0].break_id)
    assert result.returncode == 0, result.stderr
    assert "grouped under (parent)" in result.stdout
    assert "grouped under" in _line_of(result.stdout, parent.break_id) or parent.break_id in result.stdout
    siblings = [c.break_id for c in children[1:]]
    for sibling in siblings:  # its lineage is its own: a sibling's records are not its events
        assert sibling not in result.stdout


def test_one_break_as_json_matches_recon(finished_suite: RunningSuite) -> None:
    parent, children = _family(finished_suite)
    result = finished_suite.opsuite("break", parent.break_id, "-o", "json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["break"]["id"] == parent.break_id
    assert found["break"]["caused_by"] == list(parent.caused_by)
    assert sorted(c["id"] for c in found["children"]) == sorted(c.break_id for c in children)
    with grpc.insecure_channel(finished_suite.addresses["recon"]) as channel:
        detail = recon_pb2_grpc.ReconServiceStub(channel).GetBreak(
            recon_pb2.GetBreakRequest(break_id=parent.break_id), timeout=10
        )
    assert [a["kind"] for a in found["history"]] == [
        recon_pb2.ActionKind.Name(a.kind).removeprefix("ACTION_KIND_").lower() for a in detail.history
    ]


def test_an_unknown_break_is_one_line(finished_suite: RunningSuite) -> None:
    missing = finished_suite.opsuite("break", "BRK-00000000000000000000")
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        "opsuite break: recon has no break 'BRK-00000000000000000000'; "
        "`opsuite breaks --status all` lists every break"
    )
    malformed = finished_suite.opsuite("break", "FIL-0000002")
    assert malformed.returncode == 2
    assert "is not a break id" in malformed.stderr and "BRK-" in malformed.stderr
