"""opsuite trace <id>: one chain, from the market tick to the ledger journal, for the thing asked about.

The chain is the platform's (services/common/trace_chain/: what an id names, how its chain grows,
the line for each record), so it is the same whichever way it is read:

- from recon's GetChain when recon answers (OPSUITE_RECON_ADDR): recon reads its own breaks and the
  combined event log, as in a cluster, where this command cannot reach either file;
- from the files when recon does not run (a finished run inspected offline): the combined event log
  (OPSUITE_EVENTLOG_URL, or the SQLite log under OPSUITE_DATA_DIR) and recon's store under the data
  directory. A line on stderr says so.

A fault id (FLT-...) is market's ground truth: this command asks market which events carry the fault
(ListInjectedFaults, as only people and tests do) and traces those, either way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import grpc
from rich.table import Table

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.cli.client import address_variable, one_line
from services.cli.output import print_json, print_tables
from services.common.channels import open_blocking_channel
from services.common.eventlog import EventLog
from services.common.eventlog.factory import DEFAULT_FILE
from services.common.settings import Settings, load_settings
from services.common.trace_chain import (
    ACCEPTED,
    FAULT_PREFIX,
    BadId,
    BreakRef,
    ChainLink,
    NothingFound,
    TracedChain,
    check_id,
    find_chain,
    nothing_found_line,
)

MARKET_TIMEOUT_S = 10.0
# GetChain of a trade id searches market's events: long on a long run, so a generous deadline.
RECON_TIMEOUT_S = 120.0
USAGE = 2


class TraceFailed(Exception):
    """The one line for stderr, and the exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _fault(settings: Settings, fault_id: str) -> market_pb2.InjectedFault:
    address = settings.addr("market")
    request = market_pb2.ListInjectedFaultsRequest(page_size=1000)
    with open_blocking_channel(settings, address) as channel:
        stub = market_pb2_grpc.MarketServiceStub(channel)
        while True:
            try:
                reply: market_pb2.ListInjectedFaultsResponse = stub.ListInjectedFaults(
                    request, timeout=MARKET_TIMEOUT_S
                )
            except grpc.RpcError as error:
                raise NothingFound(
                    f"fault ids are market's: market does not answer at {address} "
                    f"({error.code().name.lower()}); start the suite with `opsuite up`, or see `opsuite status`"
                ) from None
            for fault in reply.faults:
                if fault.fault_id == fault_id:
                    return fault
            if not reply.next_page_token:
                raise NothingFound(f"market injected no fault {fault_id!r}")
            request.page_token = reply.next_page_token


def _from_recon(settings: Settings, identifier: str, seeds: Sequence[str] | None) -> TracedChain | None:
    """The chain from recon's GetChain; None when recon does not answer (not running, or too old to
    have GetChain), so the files are read instead."""
    from services.recon.chain import chain_from_proto

    address = settings.addr("recon")
    request = recon_pb2.GetChainRequest(id=identifier, seed_event_ids=seeds or ())
    with open_blocking_channel(settings, address) as channel:
        try:
            reply = recon_pb2_grpc.ReconServiceStub(channel).GetChain(request, timeout=RECON_TIMEOUT_S)
        except grpc.RpcError as error:
            code, details = error.code(), one_line(error.details())
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNIMPLEMENTED):
                return None
            if code is grpc.StatusCode.NOT_FOUND:
                raise TraceFailed(details) from None
            if code is grpc.StatusCode.INVALID_ARGUMENT:
                raise TraceFailed(f"{details}. Accepted: {ACCEPTED}", USAGE) from None
            raise TraceFailed(
                f"recon at {address} ({address_variable('recon')}) answered {code.name}: {details}"
            ) from None
    return chain_from_proto(reply)


def _stored_break(settings: Settings, break_id: str) -> BreakRef | None:
    """The break as recon stored it; None when it has none (or no store at all: nothing is created)."""
    from services.recon.chain import stored_break
    from services.recon.store import SQLITE_FILE, open_store  # only breaks need recon's store

    path = settings.data_dir / "recon" / SQLITE_FILE
    if not path.exists():
        return None
    store = open_store(path.parent)
    try:
        return stored_break(store, break_id)
    finally:
        store.close()


def _open_log(settings: Settings) -> EventLog:
    from services.common.eventlog import open_event_log

    if not settings.eventlog_url and not (settings.data_dir / DEFAULT_FILE).exists():
        # Opening it would create an empty log and then report every id as unknown.
        raise NothingFound(
            f"there is no event log in {settings.data_dir}: start the suite with `opsuite up` "
            "(or point OPSUITE_DATA_DIR / OPSUITE_EVENTLOG_URL at its log)"
        )
    return open_event_log(settings.eventlog_url or None, settings.data_dir)


def _from_files(settings: Settings, identifier: str, seeds: Sequence[str] | None) -> TracedChain:
    log = _open_log(settings)
    try:
        return find_chain(
            identifier, log, lambda break_id: _stored_break(settings, break_id), fault_events=seeds
        )
    finally:
        log.close()


def find(identifier: str, settings: Settings) -> tuple[TracedChain, bool]:
    """The chain of the (checked) id, and whether recon gave it (False: read from the files)."""
    seeds: tuple[str, ...] | None = None
    description = ""
    if identifier.startswith(FAULT_PREFIX):
        fault = _fault(settings, identifier)
        seeds, description = (*fault.event_ids, *fault.correction_event_ids), fault.description
    chain = _from_recon(settings, identifier, seeds)
    from_recon = chain is not None
    if chain is None:
        chain = _from_files(settings, identifier, seeds)
    if description:
        chain = TracedChain(
            f"{chain.title}: {description}",
            chain.links,
            chain.break_ids,
            chain.past_retention,
            chain.oldest_retained_seq,
        )
    return chain, from_recon


def _row(link: ChainLink) -> dict[str, object]:
    return {
        "sim_time": link.sim_time.isoformat(),
        "source": link.source,
        "kind": link.kind,
        "event_id": link.event_id,
        "what": link.description,
        "caused_by": list(link.caused_by),
        "mandate_id": link.mandate_id,
        "trace_id": link.trace_id,
    }


def _table(chain: TracedChain) -> Table:
    traces = chain.trace_ids
    out = Table(
        title=f"{chain.title}: {len(chain.links):,} record(s), oldest first",
        caption=f"trace {', '.join(traces)}" if traces else None,
    )
    out.add_column("simulated time", no_wrap=True)
    out.add_column("kind", no_wrap=True)
    out.add_column("event", no_wrap=True)
    out.add_column("what", overflow="fold")
    for link in chain.links:
        out.add_row(link.sim_time.strftime("%Y-%m-%d %H:%M"), link.kind, link.event_id, link.description)
    return out


def trace(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        identifier = check_id(args.id)
    except BadId as error:
        print(f"opsuite trace: {args.id!r} is not an id: {error}. Accepted: {ACCEPTED}", file=sys.stderr)
        return USAGE
    try:
        chain, from_recon = find(identifier, settings)
    except NothingFound as error:
        print(f"opsuite trace: {nothing_found_line(identifier, str(error))}", file=sys.stderr)
        return 1
    except TraceFailed as error:
        print(f"opsuite trace: {error}", file=sys.stderr)
        return error.exit_code
    if not from_recon:
        print(
            f"opsuite trace: recon does not answer at {settings.addr('recon')} ({address_variable('recon')}): "
            f"read the event log and recon's store under {settings.data_dir} instead",
            file=sys.stderr,
        )
    if args.output == "json":
        print_json(
            {
                "subject": chain.title,
                "records": [_row(link) for link in chain.links],
                "past_retention": list(chain.past_retention),
                "oldest_retained_seq": chain.oldest_retained_seq or None,
            }
        )
    else:
        print_tables(_table(chain))
        if chain.past_retention:
            print(chain.retention_note())
    return 0
