"""The dashboard's upstream subscriptions: one per panel and edge process, each a streaming RPC of
the service that owns the figures, fanned out to every browser by the hub.

- clock: market's StreamEvents filtered to the day's events (clock.day_end, market.regime); each
  batch that has one is followed by one GetClock.
- breaks: recon's WatchBreaks (every open break first, then each change), resumed after the last
  change seen.
- nav: reporting's WatchNav (each mandate's latest NAV, then each day end valued); a mandate's
  history is read once (GetNavHistory) when its first NAV arrives; resumed after the last day end.
- dq: dq's WatchIssues; a change that touches the quarantine (or dq's health) is followed by one
  GetQuarantine and GetStatus, coalesced while one is in flight.
- ledger: the ledger's WatchTrialBalance per mandate (its mandates read once from ListAccounts) and
  WatchJournals of the journals that move Assets:Suspense (from the ledger's first journal, then
  after the last seen).
- documents: its health (grpc.health.v1 Health/Watch); its panel calls it on demand.

How each one reconnects, and says where it stands: feed.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

import grpc
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from opsuite.dq.v1 import dq_pb2, dq_pb2_grpc
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from opsuite.reporting.v1 import reporting_pb2, reporting_pb2_grpc
from services.edge.dashboard import codec
from services.edge.dashboard.domain.breaks import OpenBreaks
from services.edge.dashboard.domain.clock import ClockView
from services.edge.dashboard.domain.issues import OpenIssues, QuarantineRow
from services.edge.dashboard.domain.ledger import SUSPENSE_PREFIX, RecentJournals, TrialBalanceView
from services.edge.dashboard.domain.nav import NavSeries
from services.edge.dashboard.feed import CALL_TIMEOUT_S, LIVE, STARTING, Feed, first_to_fail
from services.edge.dashboard.hub import Hub
from services.edge.upstream import ChannelProvider

# The day's events of market's stream: the day ends, and the regime each new day starts with.
DAY_EVENT_KINDS = ("clock.day_end", "market.regime")
PAGE = 1000
SUSPENSE_ACCOUNTS = SUSPENSE_PREFIX.rstrip(":")  # "Assets:Suspense": a journal that moves suspense


# ---------------------------------------------------------------- clock


class ClockFeed(Feed):
    service = "market"
    grpc_service = "opsuite.market.v1.MarketService"

    def __init__(self, hub: Hub, channels: ChannelProvider, address: str) -> None:
        super().__init__(hub, channels, address, ("clock",))
        self.clock: ClockView | None = None

    async def follow(self) -> None:
        stub = market_pb2_grpc.MarketServiceStub(self.channel)
        clock = await stub.GetClock(market_pb2.GetClockRequest(), timeout=CALL_TIMEOUT_S)
        self.clock = codec.clock_view(clock)
        self.touch()
        request = market_pb2.StreamEventsRequest(
            from_seq=clock.head_seq + 1, filter=market_pb2.EventFilter(kinds=DAY_EVENT_KINDS)
        )
        async for batch in stub.StreamEvents(request):
            if batch.events:  # a batch a filter emptied only moves the cursor
                clock = await stub.GetClock(market_pb2.GetClockRequest(), timeout=CALL_TIMEOUT_S)
                self.clock = codec.clock_view(clock)
                self.touch()


# ---------------------------------------------------------------- breaks


class BreaksFeed(Feed):
    service = "recon"
    grpc_service = "opsuite.recon.v1.ReconService"

    def __init__(self, hub: Hub, channels: ChannelProvider, address: str) -> None:
        super().__init__(hub, channels, address, ("breaks",))
        self.book = OpenBreaks()
        self.buckets: set[str] = set()

    def restart(self) -> None:
        self.book.reset()

    async def follow(self) -> None:
        stub = recon_pb2_grpc.ReconServiceStub(self.channel)
        after = self.book.last_change_seq
        if after == 0:
            self.book.reset()
        await self.connected()
        async for change in stub.WatchBreaks(recon_pb2.WatchBreaksRequest(after_change_seq=after)):
            item = codec.break_item(change.record)
            self.book.apply(change.change_seq, item)
            if item.aging_bucket:
                self.buckets.add(item.aging_bucket)
            self.hub.break_changed(item.break_id)
            if item.parent_break_id:
                self.hub.break_changed(item.parent_break_id)
            self.touch()


# ---------------------------------------------------------------- nav


@dataclass
class MandateName:
    name: str
    benchmark: str


class NavFeed(Feed):
    service = "reporting"
    grpc_service = "opsuite.reporting.v1.ReportingService"

    def __init__(self, hub: Hub, channels: ChannelProvider, address: str) -> None:
        super().__init__(hub, channels, address, ("nav",))
        self.series: dict[str, NavSeries] = {}
        self.names: dict[str, MandateName] = {}
        self.after_seq = 0

    def restart(self) -> None:
        self.series.clear()
        self.after_seq = 0

    async def _names(self, stub: reporting_pb2_grpc.ReportingServiceStub) -> None:
        token = ""
        while True:
            reply = await stub.ListMandates(
                reporting_pb2.ListMandatesRequest(page_size=PAGE, page_token=token), timeout=CALL_TIMEOUT_S
            )
            for mandate in reply.mandates:
                self.names[mandate.mandate_id] = MandateName(mandate.name, mandate.benchmark)
            token = reply.next_page_token
            if not token:
                return

    async def _history(
        self, stub: reporting_pb2_grpc.ReportingServiceStub, mandate_id: str, currency: str
    ) -> None:
        series = NavSeries(mandate_id, currency)
        token, first = "", True
        while True:
            reply = await stub.GetNavHistory(
                reporting_pb2.GetNavHistoryRequest(mandate_id=mandate_id, page_size=PAGE, page_token=token),
                timeout=CALL_TIMEOUT_S,
            )
            points = []
            for point in reply.points:
                points.append(codec.history_point(point, first))
                first = False
            series.load(points)
            token = reply.next_page_token
            if not token:
                break
        self.series[mandate_id] = series

    async def follow(self) -> None:
        stub = reporting_pb2_grpc.ReportingServiceStub(self.channel)
        if self.after_seq == 0:
            self.series.clear()
        await self.connected()
        await self._names(stub)
        async for change in stub.WatchNav(reporting_pb2.WatchNavRequest(after_seq=self.after_seq)):
            if change.mandate_id not in self.series:
                await self._history(stub, change.mandate_id, change.base_currency)
            self.series[change.mandate_id].add(codec.change_point(change))
            self.after_seq = max(self.after_seq, change.as_of_seq)
            self.touch()


# ---------------------------------------------------------------- dq


class DqFeed(Feed):
    service = "dq"
    grpc_service = "opsuite.dq.v1.DqService"

    def __init__(self, hub: Hub, channels: ChannelProvider, address: str) -> None:
        super().__init__(hub, channels, address, ("dq",))
        self.issues = OpenIssues()
        self.quarantine: list[QuarantineRow] = []
        self.health = ""
        self.as_of: dt.date | None = None
        self._due = asyncio.Event()

    def restart(self) -> None:
        self.issues.reset()

    async def _refresh(self, stub: dq_pb2_grpc.DqServiceStub) -> None:
        """GetStatus and GetQuarantine each time a change made them due (one round at a time)."""
        while True:
            await self._due.wait()
            self._due.clear()
            status = await stub.GetStatus(dq_pb2.GetStatusRequest(), timeout=CALL_TIMEOUT_S)
            rows: list[QuarantineRow] = []
            token = ""
            while True:
                reply = await stub.GetQuarantine(
                    dq_pb2.GetQuarantineRequest(page_size=PAGE, page_token=token), timeout=CALL_TIMEOUT_S
                )
                rows += [codec.quarantine_row(entry) for entry in reply.entries]
                token = reply.next_page_token
                if not token:
                    break
            self.health, self.as_of, self.quarantine = status.health, codec.date_of(status.as_of_date), rows
            self.touch()

    async def _watch(self, stub: dq_pb2_grpc.DqServiceStub) -> None:
        after = self.issues.last_change_seq
        async for change in stub.WatchIssues(dq_pb2.WatchIssuesRequest(after_change_seq=after)):
            item = codec.issue_item(change.issue)
            self.issues.apply(change.change_seq, item)
            self._due.set()  # dq's health and quarantine move with its issues
            self.touch()

    async def follow(self) -> None:
        stub = dq_pb2_grpc.DqServiceStub(self.channel)
        if self.issues.last_change_seq == 0:
            self.issues.reset()
        await self.connected()
        self._due.set()  # the quarantine as it is now
        await first_to_fail(self._refresh(stub), self._watch(stub))


# ---------------------------------------------------------------- ledger


class LedgerFeed(Feed):
    service = "ledger"
    grpc_service = "opsuite.ledger.v1.LedgerService"

    def __init__(self, hub: Hub, channels: ChannelProvider, address: str) -> None:
        super().__init__(hub, channels, address, ("ledger",))
        self.balances: dict[str, TrialBalanceView] = {}
        self.mandates: list[str] = []
        self.journals = RecentJournals()

    def restart(self) -> None:
        self.journals.clear()

    async def _mandates(self, stub: ledger_pb2_grpc.LedgerServiceStub) -> list[str]:
        """Every mandate the ledger keeps: those with an equity account (each has its capital's)."""
        found: set[str] = set()
        token = ""
        while True:
            reply = await stub.ListAccounts(
                ledger_pb2.ListAccountsRequest(
                    type=ledger_pb2.ACCOUNT_TYPE_EQUITY, page_size=PAGE, page_token=token
                ),
                timeout=CALL_TIMEOUT_S,
            )
            found.update(account.mandate_id for account in reply.accounts)
            token = reply.next_page_token
            if not token:
                return sorted(found)

    async def _balance(self, stub: ledger_pb2_grpc.LedgerServiceStub, mandate_id: str) -> None:
        request = ledger_pb2.WatchTrialBalanceRequest(mandate_id=mandate_id)
        async for balance in stub.WatchTrialBalance(request):
            self.balances[mandate_id] = codec.trial_balance_view(balance)
            self.touch()

    async def _watch_journals(self, stub: ledger_pb2_grpc.LedgerServiceStub, after: int) -> None:
        request = ledger_pb2.WatchJournalsRequest(account_prefix=SUSPENSE_ACCOUNTS, after_ledger_seq=after)
        async for batch in stub.WatchJournals(request):
            self.journals.add(codec.journal_item(j) for j in batch.journals)
            self.touch()

    async def _list_journals(self, stub: ledger_pb2_grpc.LedgerServiceStub) -> None:
        token = ""
        while True:
            reply = await stub.GetLedger(
                ledger_pb2.GetLedgerRequest(
                    account_prefix=SUSPENSE_ACCOUNTS, page_size=PAGE, page_token=token
                ),
                timeout=CALL_TIMEOUT_S,
            )
            self.journals.add(codec.journal_item(j) for j in reply.journals)
            token = reply.next_page_token
            if not token:
                break
        if self.journals.items():
            self.touch()

    async def _suspense_journals(self, stub: ledger_pb2_grpc.LedgerServiceStub) -> None:
        if self.journals.last_seq:
            await self._watch_journals(stub, self.journals.last_seq)  # resumed after the last seen
            return
        # None seen yet: every journal that moved suspense after the ledger's first, then live. (A
        # watch from 0 starts at "now", which a listing made before it cannot meet exactly.)
        try:
            await self._watch_journals(stub, 1)
            return
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.OUT_OF_RANGE:
                raise
        # An empty ledger, or one whose first journals a period close deleted: list what it keeps, then
        # watch after the last listed (or from now, when it lists none).
        await self._list_journals(stub)
        await self._watch_journals(stub, self.journals.last_seq)

    async def follow(self) -> None:
        stub = ledger_pb2_grpc.LedgerServiceStub(self.channel)
        await self.connected()
        self.mandates = await self._mandates(stub)
        await first_to_fail(
            *(self._balance(stub, mandate_id) for mandate_id in self.mandates), self._suspense_journals(stub)
        )


# ---------------------------------------------------------------- documents


class DocumentsFeed(Feed):
    """The documents service has no feed of its own (its panel calls it on demand): its health,
    streamed by grpc.health.v1 Health/Watch, says whether uploads and questions can be answered."""

    service = "documents"
    grpc_service = "opsuite.documents.v1.DocumentsService"

    def __init__(self, hub: Hub, channels: ChannelProvider, address: str) -> None:
        super().__init__(hub, channels, address, ("documents",))

    async def follow(self) -> None:
        stub = health_pb2_grpc.HealthStub(self.channel)
        request = health_pb2.HealthCheckRequest(service=self.grpc_service)
        async for reply in stub.Watch(request):
            self.availability.has_data = True
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                self._received = True
                self._set(LIVE, "")
            else:
                name = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
                self._set(STARTING, f"it answers {name} (loading its model, or stopping)")
