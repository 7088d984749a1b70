"""The NAV reporting computes from market's stream equals the ledger's equity at market, to the cent.

Both read the same events (a simulated year with no faults) through their own rules: reporting's
book and valuation (services/reporting/domain), the ledger's posting rules (services/ledger/domain).
The ledger's equity at market is the sum of the base amounts of every posting to its Assets and
Liabilities accounts (debit-positive, so liabilities count negative), the journals of one mandate
up to and including its day end.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest

from services.common.market_events import DayEnd
from services.common.nav.book import ReportingBook
from services.common.nav.valuation import UnitRegister, value
from tests.ledger.domain.sim_runs import simulated_run

YEAR = 252


def _ledger_equity_by_day(seed: int, days: int) -> dict[tuple[str, dt.date], Decimal]:
    run = simulated_run(seed, days, 0.0)
    book = run.book()
    equity: dict[str, Decimal] = defaultdict(Decimal)
    by_day: dict[tuple[str, dt.date], Decimal] = {}
    for event in run.events():
        for draft in book.apply(event):
            for posting in draft.postings:
                if posting.account.startswith(("Assets:", "Liabilities:")):
                    base = posting.amount if posting.base_amount is None else posting.base_amount
                    equity[draft.mandate_id] += base
        if isinstance(event.payload, DayEnd):
            for mandate in run.mandates:
                by_day[(mandate.mandate_id, event.payload.date)] = equity[mandate.mandate_id]
    return by_day


@pytest.mark.parametrize("seed", [7])
def test_nav_equals_the_ledgers_equity_on_every_day_of_a_year_without_faults(seed: int) -> None:
    run = simulated_run(seed, YEAR, 0.0)
    ledger = _ledger_equity_by_day(seed, YEAR)
    book = ReportingBook(run.mandates, run.instruments)
    instruments = {i.instrument_id: i for i in run.instruments}
    compared = 0
    differences: list[str] = []
    for event in run.events():
        for end in book.apply(event):
            valuation = value(end, instruments)
            expected = ledger[(valuation.mandate_id, valuation.date)]
            compared += 1
            if valuation.nav != expected:
                differences.append(
                    f"{valuation.mandate_id} {valuation.date}: nav {valuation.nav}, ledger {expected}"
                )
    assert compared == len(run.days) * len(run.mandates) >= 200 * len(run.mandates)
    assert not differences, f"{len(differences)} days differ, first: " + "\n".join(differences[:5])


def test_units_deal_at_the_nav_before_the_days_flows_and_returns_ignore_them() -> None:
    run = simulated_run(7, 60, 0.0)
    book = ReportingBook(run.mandates, run.instruments)
    instruments = {i.instrument_id: i for i in run.instruments}
    registers = {m.mandate_id: UnitRegister() for m in run.mandates}
    first = {m.mandate_id: True for m in run.mandates}
    for event in run.events():
        for end in book.apply(event):
            valuation = value(end, instruments)
            register = registers[valuation.mandate_id]
            units_before, nav_before = register.units, register.last_nav
            dealt = register.deal(valuation)
            if first[valuation.mandate_id]:
                # Inception: the initial subscription buys units at 100.00.
                first[valuation.mandate_id] = False
                assert dealt.units * 100 == valuation.flows
                continue
            assert nav_before is not None
            # The unit price is the NAV before the day's flows over the units before them; the units
            # the flows bought at it are worth the flows (within the rounding of units to 6 places).
            price = (valuation.nav - valuation.flows) / units_before
            assert abs(dealt.nav_per_unit - price) <= Decimal("0.0000005")
            assert abs((dealt.units - units_before) * price - valuation.flows) <= price * Decimal("0.0000005")
            assert dealt.daily_return == (valuation.nav - valuation.flows) / nav_before - 1
