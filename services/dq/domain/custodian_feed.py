"""The custodian's positions on trade date, as a holdings feed beside the internal book and the ledger.

The custodian's statement (custodian.statement, after the day's settlements) holds settled
positions; the internal book and the ledger hold positions from the trade date. So that the three
feeds are compared on one basis, the custodian's feed is its statement plus the bookings it has not
settled yet (custodian.trade, signed from the mandate's side), as the custodian itself has them: a
booking leaves the pending set when the custodian reports it SETTLED or cancels it (a
custodian.correction CANCEL_TRADE). A settlement that is late or fails is then no difference (it is
recon's timing item), while a booking the custodian dropped, duplicated or mistyped is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.common.market_events import (
    CorrectionKind,
    CustodianCorrection,
    CustodianStatement,
    CustodianTrade,
    SettlementState,
    SettlementStatus,
    Side,
)

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Pending:
    mandate_id: str
    instrument_id: str
    quantity: Decimal  # signed: + bought, - sold


class CustodianFeed:
    def __init__(self) -> None:
        self._pending: dict[str, Pending] = {}  # custodian_ref -> the booking not settled yet

    def booked(self, trade: CustodianTrade) -> None:
        signed = trade.quantity if trade.side is Side.BUY else -trade.quantity
        self._pending[trade.custodian_ref] = Pending(trade.mandate_id, trade.instrument_id, signed)

    def settlement(self, status: SettlementStatus) -> None:
        if status.state is SettlementState.SETTLED:
            self._pending.pop(status.custodian_ref, None)

    def corrected(self, correction: CustodianCorrection) -> None:
        if correction.kind is CorrectionKind.CANCEL_TRADE:
            self._pending.pop(correction.custodian_ref, None)

    def positions(self, statement: CustodianStatement) -> dict[str, Decimal]:
        """The mandate's positions on trade date: the statement's settled ones and its pending bookings."""
        book = statement.book
        positions = {iid: quantity for iid, quantity in book.positions.items()}
        for pending in self._pending.values():
            if pending.mandate_id == book.mandate_id:
                positions[pending.instrument_id] = (
                    positions.get(pending.instrument_id, ZERO) + pending.quantity
                )
        return {iid: quantity for iid, quantity in positions.items() if quantity}

    def to_json(self) -> dict[str, Any]:
        return {
            ref: [p.mandate_id, p.instrument_id, str(p.quantity)] for ref, p in sorted(self._pending.items())
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        self._pending = {ref: Pending(m, i, Decimal(q)) for ref, (m, i, q) in data.items()}
