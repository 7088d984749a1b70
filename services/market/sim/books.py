"""The internal book: the investment manager's own record of each mandate.

The convention recon, the ledger and reporting reconcile against:

- Positions move on TRADE date: a fill changes the position the moment it
  happens (trade.fill event). Positions never go negative (the desk never
  sells more than it holds).
- Cash moves on SETTLE date: a fill's net_amount leaves (buy) or arrives
  (sell) on the fill's own settle_date, as the manager expects it, whatever
  the custodian does. Until then it is pending (see pending_cash). Internal
  settlement happens at the start of the business day, so a day-end book
  includes every fill with settle_date <= that day.
- Dividends and coupons: cash in on the pay date (cashflow.dividend /
  cashflow.coupon, amount and entitled quantity on the event). Entitlement:
  dividends by the trade-date position at the start of the ex-date;
  coupons by the position settled before the coupon date (a buyer who
  settles on or after the coupon date paid no accrued for it).
- Subscriptions and redemptions: cash in / out on their date.
- FX deals (trade.fx): both legs are pending from the trade date, like a
  fill's cash, and move on the deal's settle date: the bought currency in,
  the sold currency out.

Book (the record) holds positions by trade date and settled cash only; the
projected cash a manager invests against is cash + pending_cash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from services.market.sim.records import Book, CashFlow, Fill, FxDeal, Side

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PendingSettlement:
    """A fill's cash until its settle date, or one leg of an FX deal (fill_id the deal id,
    instrument_id "" and quantity 0: it moves cash only)."""

    settle_date: dt.date
    fill_id: str
    instrument_id: str
    quantity: Decimal  # signed: + bought, - sold
    cash: Decimal  # signed: - paid, + received
    currency: str


def cash_floor(
    settled: Decimal, flows: Sequence[tuple[dt.date, Decimal]], since: dt.date
) -> tuple[Decimal, Decimal]:
    """(lowest balance on any date from `since` on, final balance) of settled cash plus dated flows:
    the balance on `since` counts every flow dated on or before it."""
    by_date: dict[dt.date, Decimal] = {}
    for day, amount in flows:
        by_date[day] = by_date.get(day, ZERO) + amount
    balance = settled + sum((amount for day, amount in by_date.items() if day <= since), ZERO)
    lowest = balance
    for day in sorted(d for d in by_date if d > since):
        balance += by_date[day]
        lowest = min(lowest, balance)
    return lowest, balance


def signed_fill(fill: Fill) -> tuple[Decimal, Decimal]:
    """(quantity, cash) of a fill from the mandate's side: a buy adds units and costs cash."""
    if fill.side is Side.BUY:
        return fill.quantity, -fill.net_amount
    return -fill.quantity, fill.net_amount


class InternalBook:
    def __init__(self, mandate_ids: Iterable[str], base_currency: dict[str, str]) -> None:
        self._ids = tuple(mandate_ids)
        self._base = dict(base_currency)
        self._positions: dict[str, dict[str, Decimal]] = {m: {} for m in self._ids}
        self._settled_positions: dict[str, dict[str, Decimal]] = {m: {} for m in self._ids}
        self._cash: dict[str, dict[str, Decimal]] = {m: {} for m in self._ids}
        self._pending: dict[str, list[PendingSettlement]] = {m: [] for m in self._ids}

    def position(self, mandate_id: str, instrument_id: str) -> Decimal:
        """Trade-date position."""
        return self._positions[mandate_id].get(instrument_id, ZERO)

    def positions(self, mandate_id: str) -> dict[str, Decimal]:
        """Trade-date positions that are not zero, in the order first traded."""
        return {k: v for k, v in self._positions[mandate_id].items() if v}

    def settled_position(self, mandate_id: str, instrument_id: str) -> Decimal:
        """Position counting only fills whose settle date has been reached."""
        return self._settled_positions[mandate_id].get(instrument_id, ZERO)

    def cash(self, mandate_id: str, currency: str) -> Decimal:
        """Settled cash."""
        return self._cash[mandate_id].get(currency, ZERO)

    def pending_cash(self, mandate_id: str, currency: str) -> list[tuple[dt.date, Decimal]]:
        """(settle date, signed amount) of fills and FX deal legs not yet settled, in booking order."""
        return [(p.settle_date, p.cash) for p in self._pending[mandate_id] if p.currency == currency]

    def pending(self, mandate_id: str) -> tuple[PendingSettlement, ...]:
        return tuple(self._pending[mandate_id])

    def apply_fill(self, fill: Fill) -> None:
        quantity, cash = signed_fill(fill)
        positions = self._positions[fill.mandate_id]
        new = positions.get(fill.instrument_id, ZERO) + quantity
        if new < 0:
            raise ValueError(f"fill {fill.fill_id} would leave {fill.mandate_id} short {fill.instrument_id}")
        positions[fill.instrument_id] = new
        self._pending[fill.mandate_id].append(
            PendingSettlement(
                fill.settle_date, fill.fill_id, fill.instrument_id, quantity, cash, fill.currency
            )
        )

    def apply_fx_deal(self, deal: FxDeal) -> None:
        """Both legs of an FX deal pending until its settle date."""
        pending = self._pending[deal.mandate_id]
        for currency, cash in deal.signed_legs():
            pending.append(PendingSettlement(deal.settle_date, deal.deal_id, "", ZERO, cash, currency))

    def settle(self, on: dt.date) -> None:
        """Move every fill due on or before `on` from pending into cash and settled positions."""
        for mandate_id in self._ids:
            pending = self._pending[mandate_id]
            if not pending or all(p.settle_date > on for p in pending):
                continue
            keep: list[PendingSettlement] = []
            for p in pending:
                if p.settle_date > on:
                    keep.append(p)
                    continue
                cash = self._cash[mandate_id]
                cash[p.currency] = cash.get(p.currency, ZERO) + p.cash
                if p.instrument_id:  # an FX deal's leg moves cash only
                    settled = self._settled_positions[mandate_id]
                    settled[p.instrument_id] = settled.get(p.instrument_id, ZERO) + p.quantity
            self._pending[mandate_id] = keep

    def apply_cash_flow(self, flow: CashFlow) -> None:
        cash = self._cash[flow.mandate_id]
        cash[flow.currency] = cash.get(flow.currency, ZERO) + flow.amount

    def book(self, mandate_id: str) -> Book:
        """Positions (not zero, sorted by id) and settled cash (sorted, base currency always present)."""
        cash = dict(self._cash[mandate_id])
        cash.setdefault(self._base[mandate_id], ZERO)
        return Book(
            mandate_id=mandate_id,
            positions={k: v for k, v in sorted(self._positions[mandate_id].items()) if v},
            cash=dict(sorted(cash.items())),
        )
