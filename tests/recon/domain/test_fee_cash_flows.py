"""Management fees through recon's domain: the monthly fee cash flow is matched book vs custodian by
cash_flow_id like any other cash flow, and the daily fee.accrued (no cash) changes nothing recon
remembers.

The simulation pays each mandate's fee on the first business day of a month, the custodian debits
the same amount that day and no fault touches it (services/market/sim/fees.py), so a fee cash flow
is MATCHED on its pay date and never a break, never a cash break that suspense would take.
"""

from __future__ import annotations

import datetime as dt

import pytest

from services.market.fred import load_macro
from services.market.sim.engine import SimConfig, Simulation
from services.market.sim.macro import MacroHistory
from services.market.sim.records import CashFlow, CashFlowKind
from services.recon.domain.followed import FollowedState
from services.recon.domain.records import Outcome, Scope
from services.scoring.recon_replay import ReplayedDay, replay

START = dt.date(2020, 2, 3)
DAYS = 60  # to 2020-04-28: fees paid on 2020-03-02 and 2020-04-01


@pytest.fixture(scope="module")
def macro() -> MacroHistory:
    return load_macro(dt.date(2020, 1, 2), dt.date(2020, 7, 31))


def _fee_flows(days: list[ReplayedDay]) -> dict[str, dt.date]:
    """cash_flow_id -> pay date of every fee the book paid."""
    return {
        e.payload.cash_flow_id: day.date
        for day in days
        for e in day.day.events
        if isinstance(e.payload, CashFlow) and e.payload.kind is CashFlowKind.FEE
    }


@pytest.mark.parametrize("fault_rate", [0.0, 1.0])
def test_every_fee_cash_flow_is_matched_on_its_pay_date_and_never_a_break(
    macro: MacroHistory, fault_rate: float
) -> None:
    sim = Simulation(SimConfig(seed=7, start=START, days=DAYS, fault_rate=fault_rate), macro)
    days = list(replay(sim))
    fees = _fee_flows(days)
    assert len(fees) == 2 * len(sim.mandates)
    matched: dict[str, dt.date] = {}
    for day in days:
        for difference in day.computed.differences:
            if difference.cash_flow_id not in fees:
                continue
            assert difference.scope is Scope.CASH_FLOW
            assert difference.outcome is Outcome.MATCHED, difference.description
            assert difference.book_amount == difference.other_amount < 0
            matched.setdefault(difference.cash_flow_id, day.date)
        assert not [b for b in day.breaks if b.cash_flow_id in fees]
    assert matched == fees
    if fault_rate == 0.0:
        # Without faults nothing breaks at all: no cash break for suspense to take either.
        assert all(day.breaks == () for day in days)


def test_a_fee_accrual_leaves_what_recon_remembers_unchanged(macro: MacroHistory) -> None:
    sim = Simulation(SimConfig(seed=7, start=START, days=3, fault_rate=0.0), macro)
    state = FollowedState()
    accruals = 0
    while (day := sim.step()) is not None:
        for event in day.events:
            before = state.to_json()
            returned = state.apply(event)
            if event.kind == "fee.accrued":
                accruals += 1
                assert returned is None and state.to_json() == before
    assert accruals == 2 * len(sim.mandates)
