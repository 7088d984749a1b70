"""GetReport's fast path gives the answers of the straightforward computation.

A simulated year (tests/ledger/domain/sim_runs.py) valued by DailyValuer and committed to a
ReportingStore as the consumer does; then, at day ends across the year (month and quarter ends, the
days after them, every ninth day, a weekend), the report of every mandate from the real handler beside
the report computed the straightforward way: the whole history read with its returns as Decimals,
every day's exposures attributed and each period's days linked (server.attributions). Performance
is identical, attribution the same groups in the same order with every figure within 1e-12.

The simulated year holds the same groups from its second day on, so a synthetic mandate has groups
coming and going (across month, quarter and year ends), and then a day whose weights do not sum to
one: every report after it is the straightforward computation's, the same error.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from opsuite.reporting.v1 import reporting_pb2
from services.common.convert import date_to_proto
from services.common.market_events import Mandate
from services.common.nav.valuation import CashValue, DayValuation, NavBreakdown, UnitRegister
from services.reporting import codec
from services.reporting.domain.attribution import AttributionError
from services.reporting.domain.daily import DailyValuer, ValuedDay
from services.reporting.domain.exposure import DIMENSIONS, Exposure, Group, reported_dimensions
from services.reporting.domain.periods import Period, figures
from services.reporting.ledger_view import no_ledger
from services.reporting.server import ReportingContext, ReportingServicer, attributions, daily_points
from services.reporting.store import ReportingStore
from tests.ledger.domain.sim_runs import Run, simulated_run

CLOSE = 1e-12
FIELDS = (
    "portfolio_weight", "benchmark_weight", "portfolio_return", "benchmark_return",
    "allocation_effect", "selection_effect", "interaction_effect", "total_effect",
    "currency_effect", "cross_effect",
)  # fmt: skip
TOTALS = (
    "total_allocation_effect", "total_selection_effect", "total_interaction_effect",
    "total_active_return", "not_attributed", "total_currency_effect", "total_cross_effect",
)  # fmt: skip


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Run, ReportingStore]]:
    run = simulated_run(7, 252, 0.0)
    valuer = DailyValuer(run.mandates, run.instruments)
    store = ReportingStore(tmp_path_factory.mktemp("reporting") / "reporting.sqlite3")
    for event in run.events():
        valued = valuer.apply(event)
        if valued:
            store.commit_day_end(event.seq, "{}", valued)
    yield run, store
    store.close()


def _as_of_dates(store: ReportingStore, mandate_id: str) -> list[dt.date]:
    bounds = store.bounds(mandate_id)
    assert bounds is not None
    dates = [p.date for p in store.history(mandate_id, *bounds)]
    chosen = {dates[0], dates[1], dates[-1]} | set(dates[::9])
    for before, after in itertools.pairwise(dates):
        if before.month != after.month:  # a month's last day end and the next month's first
            chosen |= {before, after}
    saturday = next(d for d in dates if d.weekday() == 4) + dt.timedelta(days=1)
    return sorted(chosen | {saturday})


def _straightforward(
    store: ReportingStore, mandate_id: str, ccy: str, as_of: dt.date, dimensions: Sequence[str] = DIMENSIONS
) -> reporting_pb2.Report:
    first, _ = store.bounds(mandate_id) or (as_of, as_of)
    history = store.history(mandate_id, first, as_of)
    periods = [figures(period, daily_points(history)) for period in Period]
    return reporting_pb2.Report(
        performance=[codec.performance(f, ccy) for f in periods],
        attribution=attributions(periods, store.exposures(mandate_id, first, history[-1].date), dimensions),
    )


def _servicer(store: ReportingStore, mandates: list[Mandate], run: Run | None = None) -> ReportingServicer:
    instruments = {i.instrument_id: i for i in run.instruments} if run is not None else {}
    return ReportingServicer(
        store, ReportingContext({m.mandate_id: m for m in mandates}, instruments, no_ledger)
    )


def _compare(servicer: ReportingServicer, mandate: Mandate, as_of: dt.date) -> int:
    """The handler's report beside the straightforward one; returns the group figures compared."""
    request = reporting_pb2.GetReportRequest(mandate_id=mandate.mandate_id, as_of=date_to_proto(as_of))
    report = asyncio.run(servicer.GetReport(request, None))
    expected = _straightforward(
        servicer.store, mandate.mandate_id, mandate.base_currency, as_of, reported_dimensions(mandate)
    )
    where = f"{mandate.mandate_id} as of {as_of}"
    assert list(report.performance) == list(expected.performance), where
    assert [(a.period, a.dimension) for a in report.attribution] == [
        (a.period, a.dimension) for a in expected.attribution
    ], where
    compared = 0
    for mine, theirs in zip(report.attribution, expected.attribution, strict=True):
        assert [g.group for g in mine.groups] == [g.group for g in theirs.groups], where
        for name in TOTALS:
            assert getattr(mine, name) == pytest.approx(getattr(theirs, name), abs=CLOSE), (where, name)
        for g, e in zip(mine.groups, theirs.groups, strict=True):
            for name in FIELDS:
                assert getattr(g, name) == pytest.approx(getattr(e, name), abs=CLOSE), (where, g.group, name)
                compared += 1
    return compared


def test_every_report_of_the_year_matches_the_straightforward_computation(
    year: tuple[Run, ReportingStore],
) -> None:
    run, store = year
    servicer = _servicer(store, list(run.mandates), run)
    compared = 0
    for mandate in run.mandates:
        for as_of in _as_of_dates(store, mandate.mandate_id):
            compared += _compare(servicer, mandate, as_of)
    assert compared > 10_000


def test_the_year_is_attributed_every_day_but_the_first(year: tuple[Run, ReportingStore]) -> None:
    """So the test above runs the fast path (an irregular day would send it to the straightforward one)."""
    run, store = year
    for mandate in run.mandates:
        first, last = store.bounds(mandate.mandate_id) or (None, None)
        assert first is not None and last is not None
        sums = store.running_sums(mandate.mandate_id, [last])[last]
        assert sums.irregular == 0
        assert sums.days == len(store.history(mandate.mandate_id, first, last)) - 1


# ---------------------------------------------------------------- groups coming and going

NAMES = ("Cash", "Energy", "Financials", "Health Care", "Tech")


def _mandate() -> Mandate:
    return Mandate(
        "SYN-USD", "Synthetic", "USD", "synthetic", {}, (), 0.1, 0.0, 1.0, Decimal(1_000_000), "FIFO", ()
    )


def _exposure(rng: random.Random, *, weights_sum: str = "1") -> Exposure:
    groups = {}
    for dimension in DIMENSIONS:
        names = rng.sample(NAMES, rng.randint(1, len(NAMES)))
        raw = [rng.randint(1, 50) for _ in names]
        total = Decimal(sum(raw)) / Decimal(weights_sum)
        groups[dimension] = {
            n: Group(Decimal(w) / total, Decimal(rng.randint(-300, 300)) / 10_000)
            for n, w in zip(names, raw, strict=True)
        }
    total_return = sum((g.weight * g.total_return for g in groups["asset_class"].values()), Decimal(0))
    return Exposure(total_return, groups)


def _valued(day: int, date: dt.date, nav: Decimal, flows: Decimal, register: UnitRegister, rng: random.Random,
            *, weights_sum: str = "1") -> ValuedDay:  # fmt: skip
    valuation = DayValuation(
        "SYN-USD", date, day + 1, "USD", NavBreakdown(Decimal(0), nav, Decimal(0), Decimal(0)), (),
        (CashValue("USD", nav, Decimal(1), nav),), flows,
    )  # fmt: skip
    first = day == 0
    return ValuedDay(
        valuation,
        register.deal(valuation),
        None if first else _exposure(rng, weights_sum=weights_sum),
        None if first else _exposure(rng),
        Decimal("0.0001"),
    )


class _Aborted(Exception):
    pass


class _Context:
    async def abort(self, code: grpc.StatusCode, details: str, metadata: object = None) -> None:
        raise _Aborted(code, details)


def test_groups_coming_and_going_and_an_irregular_day(tmp_path: Path) -> None:
    rng = random.Random(11)
    mandate = _mandate()
    store = ReportingStore(tmp_path / "reporting.sqlite3")
    servicer = _servicer(store, [mandate])
    register = UnitRegister()
    dates = [d for d in (dt.date(2023, 11, 27) + dt.timedelta(days=i) for i in range(100)) if d.weekday() < 5]
    nav = Decimal(1_000_000)
    for day, date in enumerate(dates):
        flows = nav if day == 0 else Decimal(1000 if day % 10 == 0 else 0)
        nav = (nav * (1 + Decimal(rng.randint(-200, 200)) / 10_000) + (flows if day else 0)).quantize(
            Decimal("0.01")
        )
        store.commit_day_end(day + 1, "{}", [_valued(day, date, nav, flows, register, rng)])
    assert len(store.regroupings("SYN-USD", dates[0], dates[-1])) > 20
    compared = sum(_compare(servicer, mandate, as_of) for as_of in dates)
    assert compared > 5_000

    # A day whose portfolio weights sum to 0.9: every report from it on fails as the straightforward
    # computation does; the reports before it keep their answers.
    broken = dates[-1] + dt.timedelta(days=3)
    store.commit_day_end(
        len(dates) + 1, "{}", [_valued(len(dates), broken, nav, Decimal(0), register, rng, weights_sum="0.9")]
    )
    with pytest.raises(AttributionError) as expected:
        _straightforward(store, "SYN-USD", "USD", broken)
    request = reporting_pb2.GetReportRequest(mandate_id="SYN-USD")
    with pytest.raises(_Aborted) as aborted:
        asyncio.run(servicer.GetReport(request, _Context()))
    assert aborted.value.args == (grpc.StatusCode.INVALID_ARGUMENT, str(expected.value))
    _compare(servicer, mandate, dates[-1])
    store.close()
