"""Management fees in the simulation (services/market/sim/fees.py, docs/reporting-conventions.md):
accrued at the start of each business day on the previous day end's NAV, actual/365, rounded
half-even to the minor unit; paid on the first business day of the next month, by the internal
book and the custodian alike.

The 60-day run from 2020-02-03 (seed 7, default faults) has a Monday every week, two holidays
(Presidents' Day, Monday 2020-02-17, and Good Friday, 2020-04-10) and two month starts (Monday
2020-03-02 and Wednesday 2020-04-01).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from services.common.nav.book import ReportingBook
from services.common.nav.valuation import value
from services.market.sim.engine import SimConfig, Simulation
from services.market.sim.fees import ManagementFees, accrued_fee
from services.market.sim.macro import MacroHistory
from services.market.sim.mandates import MANDATE_SPECS, build_mandates
from services.market.sim.records import (
    CashFlow,
    CashFlowKind,
    CustodianCashFlow,
    DayEnd,
    FeeAccrual,
    Fill,
    FxDeal,
    FxSettlement,
    Mandate,
    Side,
)
from tests.market.conftest import Run, all_events

D = Decimal
# Minor units written out here rather than taken from services/common/money.py: an independent check.
MINOR = {"USD": D("0.01"), "EUR": D("0.01"), "GBP": D("0.01"), "JPY": D("1")}


def _expected_fee(nav: Decimal, rate: Decimal, days: int, ccy: str) -> Decimal:
    return (nav * rate * days / 365).quantize(MINOR[ccy], rounding=ROUND_HALF_EVEN)


def _accruals(run: Run) -> list[tuple[str, FeeAccrual, tuple[str, ...]]]:
    return [(e.event_id, e.payload, e.caused_by) for e in all_events(run) if e.kind == "fee.accrued"]


def test_each_mandate_has_its_annual_rate_by_type() -> None:
    # Equity 60 bp, fixed income 25 bp, balanced and income 45 bp (mandates.py works them out).
    assert {s.mandate_id: s.management_fee_rate for s in MANDATE_SPECS} == {
        "BAL-USD": D("0.0045"),
        "EQ-EUR": D("0.0060"),
        "INC-GBP": D("0.0045"),
        "FI-USD": D("0.0025"),
        "EQ-JPY": D("0.0060"),
    }


def test_the_fee_of_a_period_is_nav_times_rate_times_days_over_365_rounded_half_even() -> None:
    # 250,000,000.00 x 0.0045 = 1,125,000.00 a year; x 3 / 365 = 9,246.5753... -> 9,246.58.
    assert accrued_fee(D("250000000.00"), D("0.0045"), 3, "USD") == D("9246.58")
    # 20,000,000,000 JPY x 0.0060 / 365 = 328,767.1232... -> 328,767 yen (JPY has no minor unit).
    assert accrued_fee(D("20000000000"), D("0.0060"), 1, "JPY") == D("328767")
    # Ties go to the even cent: 365.00 x 0.0050 x 1 / 365 = 0.005 -> 0.00; 1,095.00 -> 0.015 -> 0.02.
    assert accrued_fee(D("365.00"), D("0.0050"), 1, "EUR") == D("0.00")
    assert accrued_fee(D("1095.00"), D("0.0050"), 1, "EUR") == D("0.02")
    # A 4-day period after a Friday holiday: 80,000,000.00 x 0.0045 x 4 / 365 = 3,945.2054... -> 3,945.21.
    assert accrued_fee(D("80000000.00"), D("0.0045"), 4, "GBP") == D("3945.21")


def test_accruals_start_the_day_after_the_first_nav_one_per_mandate_at_0800(real_run: Run) -> None:
    mandates = [m.mandate_id for m in real_run.sim.mandates]
    first, *rest = real_run.days
    assert [e for e in first.events if e.kind == "fee.accrued"] == []  # no NAV before day one's end
    for day in rest:
        accruals = [e for e in day.events if e.kind == "fee.accrued"]
        assert [e.mandate_id for e in accruals] == mandates
        # Right after the regime, at the start of the day: before any price moves the NAV.
        assert [e.kind for e in day.events[: 1 + len(mandates)]] == ["market.regime", *["fee.accrued"] * 5]
        assert all(e.sim_time == dt.datetime.combine(day.date, dt.time(8), tzinfo=dt.UTC) for e in accruals)
        assert all(e.payload.accrual_date == day.date and e.payload.amount > 0 for e in accruals)


def test_each_accrual_is_on_the_shared_valuers_nav_of_the_previous_day_end(real_run: Run) -> None:
    # An independent NAV: the platform's book and valuer fed the run's events (what reporting runs).
    book = ReportingBook(real_run.sim.mandates, real_run.sim.instruments)
    instruments = {i.instrument_id: i for i in real_run.sim.instruments}
    navs: dict[str, tuple[dt.date, Decimal, str]] = {}
    rates = {m.mandate_id: m.management_fee_rate for m in real_run.sim.mandates}
    days_seen: dict[dt.date, set[int]] = defaultdict(set)
    checked = 0
    for event in all_events(real_run):
        if isinstance(event.payload, FeeAccrual):
            accrual = event.payload
            on, nav, day_end_id = navs[accrual.mandate_id]
            assert accrual.nav_basis == nav
            assert event.caused_by == (day_end_id,)
            assert accrual.days == (accrual.accrual_date - on).days
            assert accrual.annual_rate == rates[accrual.mandate_id]
            assert accrual.amount == _expected_fee(nav, accrual.annual_rate, accrual.days, accrual.currency)
            days_seen[accrual.accrual_date].add(accrual.days)
            checked += 1
        for end in book.apply(event):
            assert isinstance(event.payload, DayEnd)
            navs[end.mandate.mandate_id] = (end.date, value(end, instruments).nav, event.event_id)
    assert checked == (len(real_run.days) - 1) * 5
    # Calendar days: 1 Tuesday to Friday, 3 on a Monday (Fri -> Mon), 4 after a holiday.
    assert days_seen[dt.date(2020, 2, 11)] == {1}  # Tuesday
    assert days_seen[dt.date(2020, 2, 10)] == {3}  # Monday: Fri 7 -> Mon 10
    assert days_seen[dt.date(2020, 2, 18)] == {4}  # Tuesday after Presidents' Day: Fri 14 -> Tue 18
    assert days_seen[dt.date(2020, 4, 13)] == {4}  # Monday after Good Friday: Thu 9 -> Mon 13
    assert dt.date(2020, 2, 17) not in days_seen and dt.date(2020, 4, 10) not in days_seen
    mondays = [d for d in days_seen if d.weekday() == 0 and d != dt.date(2020, 4, 13)]
    assert len(mondays) >= 7 and all(days_seen[d] == {3} for d in mondays)


def test_the_first_business_day_of_a_month_pays_the_months_accruals(real_run: Run) -> None:
    accruals = _accruals(real_run)
    payments = [e for e in all_events(real_run) if e.kind == "cashflow.fee"]
    assert sorted({e.sim_time.date() for e in payments}) == [dt.date(2020, 3, 2), dt.date(2020, 4, 1)]
    assert len(payments) == 2 * 5
    for event in payments:
        flow: CashFlow = event.payload
        paid_on = event.sim_time.date()
        previous_month = (paid_on.replace(day=1) - dt.timedelta(days=1)).month
        settled = [
            (event_id, a)
            for event_id, a, _ in accruals
            if a.mandate_id == flow.mandate_id and a.accrual_date.month == previous_month
        ]
        # February 2020 has 18 business days after the first (Feb 3) and Presidents' Day: 18
        # accruals; March 2020 has 22 business days, each with its accrual.
        assert len(settled) == (18 if previous_month == 2 else 22)
        assert flow.kind is CashFlowKind.FEE and flow.amount < 0
        assert flow.amount == -sum((a.amount for _, a in settled), D(0))
        assert event.caused_by == tuple(event_id for event_id, _ in settled)
        mandate = next(m for m in real_run.sim.mandates if m.mandate_id == flow.mandate_id)
        assert flow.currency == mandate.base_currency and event.mandate_id == flow.mandate_id
        assert event.sim_time == dt.datetime.combine(paid_on, dt.time(16, 20), tzinfo=dt.UTC)
    # Every accrual before April is paid exactly once; April's are still owed at the run's end.
    paid_ids = [c for e in payments for c in e.caused_by]
    assert len(paid_ids) == len(set(paid_ids))
    assert set(paid_ids) == {event_id for event_id, a, _ in accruals if a.accrual_date < dt.date(2020, 4, 1)}


def test_the_custodian_debits_the_same_fee_the_same_day_and_no_fault_touches_it(real_run: Run) -> None:
    internal = {e.payload.cash_flow_id: e for e in all_events(real_run) if e.kind == "cashflow.fee"}
    custodian = {
        e.payload.cash_flow_id: e
        for e in all_events(real_run)
        if e.kind == "custodian.cashflow" and e.payload.kind is CashFlowKind.FEE
    }
    assert set(custodian) == set(internal)
    for cash_flow_id, event in internal.items():
        flow: CashFlow = event.payload
        theirs: CustodianCashFlow = custodian[cash_flow_id].payload
        assert (theirs.mandate_id, theirs.amount, theirs.currency) == (
            flow.mandate_id,
            flow.amount,
            flow.currency,
        )
        assert theirs.value_date == event.sim_time.date() == custodian[cash_flow_id].sim_time.date()
        assert custodian[cash_flow_id].caused_by == (event.event_id,)
    faulted = {e for f in real_run.sim.faults() for e in (*f.event_ids, *f.correction_event_ids)}
    fee_events = {e.event_id for e in (*internal.values(), *custodian.values())}
    assert not faulted & fee_events


def test_a_fee_payment_takes_cash_out_of_both_books(real_run: Run) -> None:
    """On a payment day each book's cash moves by exactly the day's cash: the internal book by its
    cash flows (the fee among them) and the fills settling that day; the custodian's statement by its
    cash flows and settlements. So the desk trades, and the custodian reports, without the fee."""
    fills: list[Fill] = [e.payload for e in all_events(real_run) if e.kind == "trade.fill"]
    deals: list[FxDeal] = [e.payload for e in all_events(real_run) if e.kind == "trade.fx"]
    for previous, day in zip(real_run.days, real_run.days[1:], strict=False):
        if not any(e.kind == "cashflow.fee" for e in day.events):
            continue
        for before, after in zip(previous.snapshot.internal_books, day.snapshot.internal_books, strict=True):
            m = after.mandate_id
            ccy = next(x.base_currency for x in real_run.sim.mandates if x.mandate_id == m)
            flows = sum(
                (
                    e.payload.amount
                    for e in day.events
                    if e.kind.startswith("cashflow.") and e.mandate_id == m
                ),
                D(0),
            )
            settling = sum(
                (
                    -f.net_amount if f.side is Side.BUY else f.net_amount
                    for f in fills
                    if f.mandate_id == m and f.settle_date == day.date
                ),
                D(0),
            )
            # FX deals settling today move the base currency too (the leg bought or sold in it).
            settling += sum(
                (
                    amount
                    for d in deals
                    if d.mandate_id == m and d.settle_date == day.date
                    for currency, amount in d.signed_legs()
                    if currency == ccy
                ),
                D(0),
            )
            fee = next(e.payload.amount for e in day.events if e.kind == "cashflow.fee" and e.mandate_id == m)
            assert fee < 0
            assert after.cash[ccy] == before.cash[ccy] + flows + settling, (day.date, m)
        for before, after in zip(
            previous.snapshot.custodian_books, day.snapshot.custodian_books, strict=True
        ):
            m = after.mandate_id
            ccy = next(x.base_currency for x in real_run.sim.mandates if x.mandate_id == m)
            moved = sum(
                (
                    e.payload.amount
                    for e in day.events
                    if e.kind == "custodian.cashflow" and e.mandate_id == m
                ),
                D(0),
            )
            moved += sum(
                (
                    e.payload.cash_amount
                    for e in day.events
                    if e.kind in ("custodian.settlement", "custodian.correction")
                    and e.mandate_id == m
                    and (e.kind == "custodian.correction" or e.payload.state == "SETTLED")
                ),
                D(0),
            )
            for e in day.events:
                if e.kind == "custodian.fx_settlement" and e.mandate_id == m:
                    moved += sum((a for c, a in _legs(e.payload) if c == ccy), D(0))
            assert after.cash[ccy] == before.cash[ccy] + moved, (day.date, m)


def _legs(report: FxSettlement) -> tuple[tuple[str, D], tuple[str, D]]:
    return (report.bought_currency, report.bought_amount), (report.sold_currency, -report.sold_amount)


def test_the_fee_book_pays_only_accruals_of_earlier_months() -> None:
    """ManagementFees alone: what it pays on a day is its accruals dated before that day's month."""
    fees = ManagementFees((), ())
    assert fees.payments(dt.date(2020, 3, 2)) == []
    fees = ManagementFees((_mandate("M1"),), ())
    for day, amount, event_id in (
        (dt.date(2020, 2, 27), "10.00", "mkt-1"),
        (dt.date(2020, 2, 28), "11.00", "mkt-2"),
        (dt.date(2020, 3, 2), "30.00", "mkt-3"),
    ):
        fees.accrued(FeeAccrual("M1", D(amount), "USD", day, D("1000000"), D("0.005"), 1), event_id)
    assert fees.payments(dt.date(2020, 2, 28)) == []  # nothing of an earlier month yet
    [payment] = fees.payments(dt.date(2020, 3, 2))
    # February's 10.00 + 11.00 = 21.00, paid as -21.00; March 2's 30.00 stays owed.
    assert (payment.mandate_id, payment.amount, payment.currency) == ("M1", D("-21.00"), "USD")
    assert payment.accrual_event_ids == ("mkt-1", "mkt-2")
    assert fees.payments(dt.date(2020, 3, 3)) == []  # paid once
    [april] = fees.payments(dt.date(2020, 4, 1))
    assert april.amount == D("-30.00") and april.accrual_event_ids == ("mkt-3",)


def test_no_accrual_before_a_day_end_is_valued() -> None:
    fees = ManagementFees((_mandate("M1"),), ())
    assert fees.accruals(dt.date(2020, 3, 2)) == []
    assert fees.last_nav("M1") is None


def _mandate(mandate_id: str) -> Mandate:
    """A USD mandate of the simulation's (its fee rate, 0.0045) under another id."""
    return dataclasses.replace(build_mandates(())[0], mandate_id=mandate_id, base_currency="USD")


@pytest.mark.parametrize("seed", [3])
def test_a_synthetic_run_without_holidays_accrues_one_or_three_days(
    seed: int, synthetic: MacroHistory
) -> None:
    sim = Simulation(SimConfig(seed=seed, start=dt.date(2019, 1, 2), days=30, fault_rate=0.0), synthetic)
    days: set[int] = set()
    while (day := sim.step()) is not None:
        days |= {e.payload.days for e in day.events if e.kind == "fee.accrued"}
    assert days == {1, 3}
