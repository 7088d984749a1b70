"""opsuite trace: one chain, from the tick to the journal, for the thing asked about.

First over a combined event log built by hand (a fill, two breaks of it, a suspense journal of
one), then against the finished suite with every kind of id it prints, checked against recon's
and market's own answers.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.common.eventlog import NewRecord, open_event_log
from tests.cli.conftest import RunningSuite, run_opsuite
from tests.support.processes import ROOT

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
OTHER = "00f067aa0ba902b700f067aa0ba902b7"
T0 = dt.datetime(2020, 3, 2, 16, 30, tzinfo=dt.UTC)
ACCEPTED_IDS = ("BRK-", "mkt-", "32-hex trace id", "FIL-", "FLT-", "CUS-", "CNF-", "journal id")


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


def _recon(event_id: str, kind: str, day: int, caused_by: tuple[str, ...], summary: str) -> NewRecord:
    return NewRecord(
        event_id=event_id,
        kind=kind,
        sim_time=T0.replace(day=day, hour=23),
        trace_id=TRACE,
        caused_by=caused_by,
        summary=summary,
    )


def _build(data_dir: Path) -> None:
    """Two breaks of one fill share its trace; BRK-1 aged into suspense, posted as journal J1."""
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
                _recon("rec-BRK-1-opened-2020-03-02", "break.opened", 2, ("mkt-2",), "BRK-1 opened"),
                _recon("rec-BRK-2-opened-2020-03-02", "break.opened", 2, ("mkt-2",), "BRK-2 opened"),
                _recon("rec-BRK-1-aged-2020-03-05", "break.aged", 5, ("mkt-2",), "BRK-1 aged 3 days"),
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


def _in_order(text: str, markers: list[str]) -> None:
    """The markers appear in this order in the table's rows (the title may name one of them)."""
    rows = text.split("┡", 1)[1]
    positions = [rows.index(marker) for marker in markers]
    assert positions == sorted(positions), text


def test_a_journal_leads_back_to_its_break_and_fill_and_no_other_break(tmp_path: Path) -> None:
    _build(tmp_path)
    for identifier in ("ldg-J1", "J1", "rec-BRK-1-aged-2020-03-05"):
        result = _trace(identifier, tmp_path)
        assert result.returncode == 0, result.stderr
        _in_order(result.stdout, ["mkt-2", "rec-BRK-1-opened", "rec-BRK-1-aged", "ldg-J1"])
        assert "rec-BRK-1-suspense-v1" in result.stdout
        assert "BUY 100 US-NWSF @ 12.50" in result.stdout
        assert "BRK-2" not in result.stdout  # the same fill's other break is not this journal's chain
        assert "mkt-1" not in result.stdout  # a tick of another trace is no part of it


def test_a_fill_event_leads_to_every_break_it_caused_and_a_trace_id_to_its_records(tmp_path: Path) -> None:
    _build(tmp_path)
    for identifier in ("mkt-2", TRACE):
        result = _trace(identifier, tmp_path)
        assert result.returncode == 0, result.stderr
        _in_order(result.stdout, ["mkt-2", "rec-BRK-1-opened", "rec-BRK-1-aged", "ldg-J1"])
        assert "rec-BRK-2-opened" in result.stdout
        assert "mkt-1" not in result.stdout


def test_an_unknown_id_says_nothing_was_found_and_what_is_accepted(tmp_path: Path) -> None:
    _build(tmp_path)
    result = _trace("mkt-999", tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    message = result.stderr.strip()
    assert message.startswith("opsuite trace: nothing found for 'mkt-999'") and "\n" not in message
    assert all(accepted in message for accepted in ACCEPTED_IDS)


# ---------------------------------------------------------------- against the finished suite


def _breaks(suite: RunningSuite) -> list[recon_pb2.Break]:
    with grpc.insecure_channel(suite.addresses["recon"]) as channel:
        reply = recon_pb2_grpc.ReconServiceStub(channel).ListBreaks(
            recon_pb2.ListBreaksRequest(page_size=1000), timeout=10
        )
    return list(reply.breaks)


def _family(suite: RunningSuite) -> tuple[recon_pb2.Break, list[recon_pb2.Break]]:
    """A break of a fill with at least two children: they all share the fill's trace."""
    every = _breaks(suite)
    for parent in every:
        children = [b for b in every if b.parent_break_id == parent.break_id]
        if parent.fill_id and len(children) >= 2:
            return parent, children
    raise AssertionError("no trade break with two children in this run")


def _json(suite: RunningSuite, identifier: str) -> dict[str, object]:
    result = suite.opsuite("trace", identifier, "-o", "json")
    assert result.returncode == 0, result.stderr
    found: dict[str, object] = json.loads(result.stdout)
    return found


def test_a_break_is_its_own_chain_not_every_break_of_its_trace(finished_suite: RunningSuite) -> None:
    parent, children = _family(finished_suite)
    child, siblings = children[0], children[1:]
    result = finished_suite.opsuite("trace", child.break_id)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"break {child.break_id}:" in out
    for cause in child.caused_by:
        assert f" {cause} " in out
    _in_order(out, [f"rec-{child.break_id}-opened", f"rec-{child.break_id}-resolved"])
    if child.resolved_by_event_id:
        assert f" {child.resolved_by_event_id} " in out
    for other in (parent, *siblings):
        assert other.break_id not in out
    # The fill's trace, and the trace of the price tick the fill was priced on (the chain's root).
    assert re.search(rf"trace (?:[0-9a-f]{{32}}, )*{child.trace_id}", out), out


def test_ids_are_never_cut_even_in_a_narrow_terminal(finished_suite: RunningSuite) -> None:
    parent, _ = _family(finished_suite)
    records = _json(finished_suite, parent.fill_id)["records"]
    assert isinstance(records, list)
    # FORCE_COLOR makes rich take the pipe for a terminal 60 columns wide, as a person's would be.
    terminal = {**finished_suite.env, "COLUMNS": "60", "FORCE_COLOR": "1"}
    narrow = run_opsuite("trace", parent.fill_id, env=terminal)
    assert narrow.returncode == 0, narrow.stderr
    for record in records:
        assert f" {record['event_id']} " in narrow.stdout  # whole, on one line
    descriptions = [str(r["what"]) for r in records]
    assert not any(d in narrow.stdout for d in descriptions if len(d) > 60)  # those fold instead


def test_a_fill_leads_to_every_break_it_caused(finished_suite: RunningSuite) -> None:
    parent, children = _family(finished_suite)
    result = finished_suite.opsuite("trace", parent.fill_id)
    assert result.returncode == 0, result.stderr
    assert f"trade.fill {parent.fill_id}:" in result.stdout
    assert re.search(rf"{parent.fill_id}: (BUY|SELL) [\d,]+ {parent.instrument_id} @", result.stdout)
    for brk in (parent, *children):
        assert f"rec-{brk.break_id}-opened" in result.stdout


def test_custodian_references_and_confirmations_are_accepted(finished_suite: RunningSuite) -> None:
    parent, _ = _family(finished_suite)
    reference = parent.custodian_refs[0]
    booked = finished_suite.opsuite("trace", reference)
    assert booked.returncode == 0, booked.stderr
    assert f"custodian booked {reference} for {parent.fill_id}" in booked.stdout
    records = _json(finished_suite, parent.fill_id)["records"]
    assert isinstance(records, list)
    confirmation = next(r for r in records if r["kind"] == "trade.confirmation")
    confirmation_id = str(confirmation["what"]).split()[0]
    assert confirmation_id.startswith("CNF-")
    confirmed = finished_suite.opsuite("trace", confirmation_id)
    assert confirmed.returncode == 0, confirmed.stderr
    assert f"{confirmation_id} from" in confirmed.stdout and parent.fill_id in confirmed.stdout


def test_a_fault_id_shows_the_events_that_carry_it(finished_suite: RunningSuite) -> None:
    with grpc.insecure_channel(finished_suite.addresses["market"]) as channel:
        faults = market_pb2_grpc.MarketServiceStub(channel).ListInjectedFaults(
            market_pb2.ListInjectedFaultsRequest(page_size=1000), timeout=10
        )
    fault = next(f for f in faults.faults if f.fill_id and f.event_ids)
    result = finished_suite.opsuite("trace", fault.fault_id)
    assert result.returncode == 0, result.stderr
    assert f"fault {fault.fault_id}: {fault.description}" in " ".join(result.stdout.split())
    for event_id in fault.event_ids:
        assert f" {event_id} " in result.stdout


def test_a_trace_id_is_the_whole_trace(finished_suite: RunningSuite) -> None:
    parent, children = _family(finished_suite)
    found = _json(finished_suite, parent.trace_id)
    assert found["subject"] == f"trace {parent.trace_id}"
    records = found["records"]
    assert isinstance(records, list)
    ids = [r["event_id"] for r in records]
    for brk in (parent, *children):
        assert f"rec-{brk.break_id}-opened-{brk.first_seen_date.year:04d}" in " ".join(ids)
    times = [r["sim_time"] for r in records]
    assert times == sorted(times)
    assert all(r["trace_id"] == parent.trace_id for r in records)


@pytest.mark.parametrize(
    "identifier", ["0" * 32, "0123456789abcdef0123456789abcdef", "BRK-00000000000000000000", "nope"]
)
def test_nothing_found_is_one_line_naming_the_ids_accepted(
    finished_suite: RunningSuite, identifier: str
) -> None:
    result = finished_suite.opsuite("trace", identifier)
    assert result.returncode == 1
    assert result.stdout == ""
    message = result.stderr.strip()
    assert message.startswith(f"opsuite trace: nothing found for {identifier!r}") and "\n" not in message
    assert all(accepted in message for accepted in ACCEPTED_IDS)
