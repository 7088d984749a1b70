"""The retention rules: the horizon, when a prune is due, and what stays although it is old."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from services.recon.domain.followed import FollowedState, KeptBooking, KeptFill, KeptFlow
from services.recon.domain.records import Break, BreakStatus, Scope
from services.recon.domain.retention import (
    PRUNE_EVERY_BUSINESS_DAYS,
    Followed,
    horizon_of,
    keeps,
    prune_due,
)
from tests.recon.builders import a_break

DATES = [dt.date(2024, 1, 1) + dt.timedelta(days=n) for n in range(100)]


def test_the_horizon_is_keep_days_business_days_before_the_latest_day_end() -> None:
    assert horizon_of(DATES, 10) == DATES[-11]
    assert horizon_of(DATES[:11], 10) == DATES[0]
    assert horizon_of(DATES[:10], 10) is None  # not that many days checked yet
    assert horizon_of(DATES, 0) is None  # 0 keeps everything
    assert horizon_of([], 5) is None


def test_a_prune_is_due_first_then_every_21_business_days() -> None:
    assert PRUNE_EVERY_BUSINESS_DAYS == 21
    assert prune_due(DATES, None, DATES[0])
    assert not prune_due(DATES, DATES[30], DATES[30])
    assert not prune_due(DATES, DATES[30], DATES[29])
    assert not prune_due(DATES, DATES[30], DATES[50])
    assert prune_due(DATES, DATES[30], DATES[51])
    assert prune_due(DATES, DATES[30], DATES[32], every=2)


def closed(brk: Break) -> Break:
    return dataclasses.replace(brk, status=BreakStatus.RESOLVED)


@pytest.mark.parametrize("status", [BreakStatus.OPEN, BreakStatus.INVESTIGATING])
def test_an_open_break_is_always_kept(status: BreakStatus) -> None:
    brk = dataclasses.replace(a_break("BRK-a", scope=Scope.TRADE, fill_id="FIL-1"), status=status)
    assert keeps(brk, latest=False, followed=Followed())


@pytest.mark.parametrize("scope", [Scope.POSITION, Scope.CASH])
def test_a_balance_key_keeps_its_latest_generation_only(scope: Scope) -> None:
    brk = closed(a_break("BRK-a", scope=scope))
    assert keeps(brk, latest=True, followed=Followed())
    assert not keeps(brk, latest=False, followed=Followed())
    assert not keeps(
        dataclasses.replace(brk, status=BreakStatus.WRITTEN_OFF), latest=False, followed=Followed()
    )


def test_an_item_keeps_its_latest_generation_while_recon_follows_its_subject() -> None:
    trade = closed(a_break("BRK-t", scope=Scope.TRADE, fill_id="FIL-1", custodian_refs=("CUS-1",)))
    flow = closed(a_break("BRK-f", scope=Scope.CASH_FLOW, cash_flow_id="CF-1"))
    nothing = Followed()
    assert not keeps(trade, latest=True, followed=nothing) and not keeps(flow, latest=True, followed=nothing)
    assert keeps(trade, latest=True, followed=Followed(fills=frozenset({"FIL-1"})))
    assert keeps(trade, latest=True, followed=Followed(custodian_refs=frozenset({"CUS-1"})))
    assert not keeps(trade, latest=False, followed=Followed(fills=frozenset({"FIL-1"})))
    assert keeps(flow, latest=True, followed=Followed(cash_flows=frozenset({"CF-1"})))
    assert not keeps(flow, latest=False, followed=Followed(cash_flows=frozenset({"CF-1"})))


def test_followed_is_what_the_state_holds() -> None:
    day = dt.date(2024, 3, 11)
    state = FollowedState(
        fills={"FIL-1": KeptFill("FIL-1", "M", "AAPL", "BUY", Decimal(1), Decimal(1), Decimal(1), "USD", day, day, "e1")},
        bookings={"CUS-9": KeptBooking("CUS-9", "FIL-7", "M", "AAPL", "BUY", Decimal(1), Decimal(1), "USD", day, day, "e2")},
        flows={"CF-1": KeptFlow("CF-1", "M")},
    )  # fmt: skip
    assert Followed.of(state) == Followed(
        fills=frozenset({"FIL-1", "FIL-7"}),
        custodian_refs=frozenset({"CUS-9"}),
        cash_flows=frozenset({"CF-1"}),
    )
