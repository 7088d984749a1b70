"""The line `opsuite trace` shows for an FX deal and the custodian's report of its settlement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.cli.trace.market_text import describe
from services.common.eventlog.records import LogRecord
from services.market import codec
from services.market.sim.records import FxDeal, FxSettlement, SettlementState, SimEvent

DAY = dt.date(2020, 3, 9)
AT = dt.datetime(2020, 3, 9, 16, 30, tzinfo=dt.UTC)


def _record(kind: str, payload: FxDeal | FxSettlement) -> LogRecord:
    event = SimEvent(7, "mkt-7", AT, kind, payload, "BAL-USD")
    return LogRecord(
        "market",
        7,
        "mkt-7",
        kind,
        AT,
        codec.event_to_proto(event).SerializeToString(),
        "",
        (),
        "BAL-USD",
        "",
        AT,
    )


def test_an_fx_deal_and_its_settlement_read_as_one_line_each() -> None:
    deal = FxDeal(
        "FXD-0000001",
        "BAL-USD",
        "EUR",
        Decimal(272000),
        "USD",
        Decimal("340000.00"),
        Decimal("1.25"),
        DAY,
        DAY,
    )
    assert describe(_record("trade.fx", deal)) == (
        "FXD-0000001: buy 272,000 EUR, sell 340,000.00 USD at 1.25 for BAL-USD"
    )
    report = FxSettlement(
        "CUS-FX-0000001", "FXD-0000001", "BAL-USD", SettlementState.SETTLED, DAY, "EUR", Decimal(272000), "USD",
        Decimal("340000.00"),
    )  # fmt: skip
    assert describe(_record("custodian.fx_settlement", report)) == (
        "FXD-0000001 (CUS-FX-0000001) settled at the custodian"
    )
