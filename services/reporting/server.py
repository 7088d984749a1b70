"""The ReportingService RPCs: each checks its request, reads the store, and answers.

Unknown mandates are NOT_FOUND (naming the known ones); dates outside a mandate's valued history are
OUT_OF_RANGE (naming the range); before market's mandates are known every RPC is UNAVAILABLE
(services/common/serve.py's availability gate), and before the first day end is valued a report
is UNAVAILABLE too, since it will exist shortly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import grpc

from opsuite.reporting.v1 import reporting_pb2, reporting_pb2_grpc
from services.common.convert import date_from_proto, date_to_proto
from services.common.limits import MAX_NAME_CHARS, too_long
from services.common.market_events import Instrument, Mandate
from services.common.nav.valuation import DayValuation
from services.common.paging import page_size, position
from services.common.status import FieldViolation, RequestError, invalid_argument, rpc_errors, unknown_id
from services.common.watchers import Watchers
from services.reporting import codec, nav_feed
from services.reporting.domain.attribution import Linked
from services.reporting.domain.comparison import Comparison
from services.reporting.domain.exposure import DIMENSIONS, reported_dimensions
from services.reporting.domain.period_attribution import GroupSummary, attribute_day, link_days
from services.reporting.domain.periods import DailyPoint, Period, PeriodFigures, figures
from services.reporting.domain.running import Held, RunningSums, link_period
from services.reporting.store import DayExposure, NavDay, NavPoint, ReportingStore

LedgerView = Callable[[DayValuation], Awaitable[Comparison]]


@dataclass
class ReportingContext:
    """What the RPCs read besides the store: market's reference data and the ledger."""

    mandates: dict[str, Mandate]
    instruments: dict[str, Instrument]
    # The ledger's equity at market beside reporting's NAV of a day end.
    ledger_view: LedgerView


def daily_points(history: Sequence[NavPoint]) -> list[DailyPoint]:
    return [
        DailyPoint(
            p.date,
            p.nav,
            p.flows,
            float(p.daily_return) if p.daily_return is not None else None,
            float(p.benchmark_return) if p.benchmark_return is not None else None,
            float(p.risk_free_return),
        )
        for p in history
    ]


class ReportingServicer(reporting_pb2_grpc.ReportingServiceServicer):
    def __init__(self, store: ReportingStore, context: ReportingContext) -> None:
        self.store = store
        self.context = context
        # WatchNav's wake-up: each committed day end; closed when reporting drains (close()).
        self.watchers = Watchers(store, "reporting")

    def close(self) -> None:
        """Shutting down: open watches end now with UNAVAILABLE (saying where to resume)."""
        self.watchers.close()

    def _mandate(self, mandate_id: str) -> Mandate:
        if not mandate_id:
            raise RequestError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "mandate_id is required",
                violations=[
                    FieldViolation(
                        "mandate_id", "give a mandate id (ReportingService/ListMandates lists them)"
                    )
                ],
            )
        mandate = self.context.mandates.get(mandate_id)
        if mandate is None:
            raise unknown_id(
                "mandate_id",
                "mandate",
                mandate_id,
                sorted(self.context.mandates),
                "ReportingService/ListMandates",
            )
        return mandate

    async def _bounds(self, mandate_id: str) -> tuple[dt.date, dt.date]:
        bounds = await asyncio.to_thread(self.store.bounds, mandate_id)
        if bounds is None:
            raise RequestError(
                grpc.StatusCode.UNAVAILABLE,
                f"reporting has not valued a day end of {mandate_id} yet; ask again shortly",
            )
        return bounds

    @rpc_errors
    async def ListMandates(
        self, request: reporting_pb2.ListMandatesRequest, context: grpc.aio.ServicerContext
    ) -> reporting_pb2.ListMandatesResponse:
        size = page_size(request.page_size)
        ids = sorted(self.context.mandates)
        start = position(request.page_token, at_most=len(ids))
        page = ids[start : start + size]
        summaries = []
        for mandate_id in page:
            latest = await asyncio.to_thread(self.store.latest, mandate_id)
            ytd = None
            if latest is not None:
                history = await asyncio.to_thread(
                    self.store.history,
                    mandate_id,
                    dt.date(latest.valuation.date.year - 1, 1, 1),
                    latest.valuation.date,
                )
                ytd = figures(Period.YEAR_TO_DATE, daily_points(history)).portfolio_return
            summaries.append(codec.summary(self.context.mandates[mandate_id], latest, ytd))
        following = start + len(page)
        return reporting_pb2.ListMandatesResponse(
            mandates=summaries, next_page_token=str(following) if following < len(ids) else ""
        )

    @rpc_errors
    async def GetReport(
        self, request: reporting_pb2.GetReportRequest, context: grpc.aio.ServicerContext
    ) -> reporting_pb2.Report:
        mandate = self._mandate(request.mandate_id)
        first, last = await self._bounds(mandate.mandate_id)
        as_of = date_from_proto(request.as_of, "as_of") if request.HasField("as_of") else last
        if not first <= as_of <= last:
            raise _out_of_range("as_of", as_of, first, last)
        # Read and computed in a worker thread, leaving the event loop to other calls meanwhile.
        report, day, stored = await asyncio.to_thread(self._report, mandate, first, as_of)
        # The comparison stored when the ledger had booked that day end (comparer.py), else asked now.
        comparison = stored if stored is not None else await self.context.ledger_view(day.valuation)
        if comparison.detail and comparison.status != "AGREES":
            report.warnings.append(f"ledger: {comparison.detail}")
        report.ledger.CopyFrom(codec.comparison(comparison, mandate.base_currency))
        return report

    def _report(
        self, mandate: Mandate, first: dt.date, as_of: dt.date
    ) -> tuple[reporting_pb2.Report, NavDay, Comparison | None]:
        """The report of the last day end on or before as_of, without the ledger's side; the day end,
        and the comparison stored with it if any."""
        ccy = mandate.base_currency
        points = self.store.points(mandate.mandate_id, first, as_of)
        day = self.store.day(mandate.mandate_id, points[-1].date)
        assert day is not None
        stored = self.store.comparison(mandate.mandate_id, day.valuation.date)
        periods = [figures(period, points) for period in Period]
        report = reporting_pb2.Report(
            mandate_id=mandate.mandate_id,
            name=mandate.name,
            base_currency=ccy,
            benchmark=mandate.benchmark,
            as_of=date_to_proto(day.valuation.date),
            as_of_seq=day.valuation.seq,
            nav=codec.nav(day),
            holdings=codec.holdings(day, self.context.instruments),
            cash=codec.cash(day),
            performance=[codec.performance(f, ccy) for f in periods],
            attribution=self._attributions(mandate, periods, first, day.valuation.date),
            warnings=list(day.valuation.warnings),
            quarantined_prices=codec.quarantined(day.quarantined, ccy),
        )
        return report, day, stored

    def _attributions(
        self, mandate: Mandate, periods: Sequence[PeriodFigures], first: dt.date, last: dt.date
    ) -> list[reporting_pb2.Attribution]:
        """From the running sums at each period's base and at last (domain/running.py); from every
        day's exposures when the history up to last holds a day the sums could not carry."""
        mandate_id, dimensions = mandate.mandate_id, reported_dimensions(mandate)
        sums = self.store.running_sums(mandate_id, [last, *(p.start for p in periods)])
        end = sums.get(last)
        if end is not None and not end.irregular and all(p.start in sums for p in periods):
            regroupings = self.store.regroupings(mandate_id, min(p.start for p in periods), last)
            return linked_attributions(periods, sums, regroupings, dimensions)
        return attributions(periods, self.store.exposures(mandate_id, first, last), dimensions)

    @rpc_errors
    async def GetNavHistory(
        self, request: reporting_pb2.GetNavHistoryRequest, context: grpc.aio.ServicerContext
    ) -> reporting_pb2.GetNavHistoryResponse:
        mandate = self._mandate(request.mandate_id)
        size = page_size(request.page_size)
        first, last = await self._bounds(mandate.mandate_id)
        dates = request.dates
        start = date_from_proto(dates.start, "dates.start") if dates.HasField("start") else first
        end = date_from_proto(dates.end, "dates.end") if dates.HasField("end") else last
        if end < start:
            raise RequestError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "dates.end is before dates.start",
                violations=[FieldViolation("dates", f"end {end} is before start {start}")],
            )
        if start > last or end < first:
            raise _out_of_range("dates", start, first, last, end=end)
        offset = position(request.page_token)
        # Cumulative returns count from the range's first day end (its own return included).
        history = await asyncio.to_thread(self.store.history, mandate.mandate_id, start, end)
        page = history[offset : offset + size]
        growth = math.prod(1 + float(p.daily_return or 0) for p in history[:offset])
        benchmark_growth = math.prod(1 + float(p.benchmark_return or 0) for p in history[:offset])
        points = []
        for point in page:
            growth *= 1 + float(point.daily_return or 0)
            benchmark_growth *= 1 + float(point.benchmark_return or 0)
            points.append(codec.nav_point(point, mandate.base_currency, growth - 1, benchmark_growth - 1))
        following = offset + len(page)
        return reporting_pb2.GetNavHistoryResponse(
            mandate_id=mandate.mandate_id,
            base_currency=mandate.base_currency,
            points=points,
            next_page_token=str(following) if following < len(history) else "",
        )

    @rpc_errors
    async def WatchNav(
        self, request: reporting_pb2.WatchNavRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[reporting_pb2.NavChange]:
        violations = too_long([("mandate_id", request.mandate_id, MAX_NAME_CHARS)])
        if violations:
            raise invalid_argument(violations)
        if request.mandate_id:
            self._mandate(request.mandate_id)  # NOT_FOUND: a watch of no mandate would wait for ever
        mandate_id, position = request.mandate_id, request.after_seq
        # Before the first read: a commit after the read then wakes the wait (ChangeSignal).
        signal = self.watchers.signal(f"after_seq={position}")
        if position == 0:
            position, current = await asyncio.to_thread(nav_feed.latest, self.store, mandate_id)
            for change in current:
                yield change
        else:
            head = await asyncio.to_thread(self.store.cursor)
            if position > head:
                raise RequestError(
                    grpc.StatusCode.OUT_OF_RANGE,
                    f"after_seq {position} is beyond the last day end valued, seq {head}; resume from "
                    f"{head}, or 0 for each mandate's latest NAV",
                    violations=[FieldViolation("after_seq", f"at most {head}")],
                    reason="CURSOR_AHEAD",
                    metadata={"head": str(head)},
                )
        while True:
            until, found = await asyncio.to_thread(nav_feed.after, self.store, position, mandate_id)
            for change in found:
                yield change
                position = change.as_of_seq
            if until > position:
                position = until  # read to there (the day ends of other mandates included)
                continue
            await self.watchers.wait_beyond(signal, position, f"after_seq={position}")


def attributions(
    periods: Sequence[PeriodFigures],
    exposures: Sequence[DayExposure],
    dimensions: Sequence[str] = DIMENSIONS,
) -> list[reporting_pb2.Attribution]:
    """Each period's attribution by each dimension (sector, asset class, currency), from the days it covers that have
    both a portfolio and a benchmark exposure (none before the second day end): every day attributed,
    then linked over each period. linked_attributions gives the same from the running sums."""
    out = []
    for dimension in dimensions:
        days = [
            (e.date, attribute_day(e.date.isoformat(), e.portfolio, e.benchmark, dimension))
            for e in exposures
            if e.portfolio is not None and e.benchmark is not None
        ]
        for period in periods:
            covered = [attributed for date, attributed in days if period.start < date <= period.end]
            if covered:
                out.append(_attribution(period, dimension, *link_days(covered)))
    return out


def linked_attributions(
    periods: Sequence[PeriodFigures],
    sums: Mapping[dt.date, RunningSums],
    regroupings: Sequence[tuple[dt.date, int, Held]],
    dimensions: Sequence[str] = DIMENSIONS,
) -> list[reporting_pb2.Attribution]:
    """attributions' answer from the running sums at each period's base (its start) and end, and the
    day ends whose groups changed after the earliest base (domain/running.py). No day up to the
    periods' end may be irregular."""
    out = []
    for dimension in dimensions:
        for period in periods:
            within = [(days, held) for date, days, held in regroupings if period.start < date <= period.end]
            linked = link_period(sums[period.start], sums[period.end], within, dimension)
            if linked is not None:
                out.append(_attribution(period, dimension, *linked))
    return out


def _attribution(
    period: PeriodFigures, dimension: str, linked: Linked, groups: Sequence[GroupSummary]
) -> reporting_pb2.Attribution:
    attribution = codec.attribution(period.period, dimension, linked, groups)
    if period.active_return is not None:
        attribution.not_attributed = period.active_return - attribution.total_active_return
    return attribution


def _out_of_range(
    field: str, day: dt.date, first: dt.date, last: dt.date, *, end: dt.date | None = None
) -> RequestError:
    asked = f"{day}" if end is None else f"{day} to {end}"
    return RequestError(
        grpc.StatusCode.OUT_OF_RANGE,
        f"{field} {asked} is outside the valued history, {first} to {last}",
        violations=[FieldViolation(field, f"give a date from {first} to {last}")],
    )


def register(server: grpc.aio.Server, servicer: ReportingServicer) -> list[str]:
    reporting_pb2_grpc.add_ReportingServiceServicer_to_server(servicer, server)
    return [reporting_pb2.DESCRIPTOR.services_by_name["ReportingService"].full_name]
