"""The ledger book's state between market events, and its lossless JSON form.

The consumer stores this JSON in the same transaction as the journals the
events produced, so a restart continues exactly where it stopped: decimals
travel as strings (str(Decimal) round-trips exactly), dates as ISO text,
and every mapping keeps its insertion order, which the rules iterate in.

Version 2 added the bonds' accrued interest (the quoted accrued per 100 and each
mandate's carried accrual). A version 1 snapshot still loads, with neither: the
next day end then books the whole accrual to date at once (target - 0), so the
book catches up rather than stays without it; a bond whose quote the snapshot
missed waits for the next day's quote. Older code refuses a version 2 snapshot,
which it would otherwise load while dropping the accruals it carries.

Version 3 added the FX deals booked and not yet settled (pending_fx). A version 1 or 2
snapshot loads with none: it was written before the stream had FX deals.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from services.ledger.domain import chart
from services.ledger.domain.lots import Lots

FORMAT_VERSION = 3
# What this code reads: version 1 is version 2 without the accruals of bonds, version 2 is version 3
# without FX deals.
READABLE_VERSIONS = (1, 2, FORMAT_VERSION)


@dataclass(frozen=True)
class MandateInfo:
    mandate_id: str
    base_currency: str
    lot_method: str  # FIFO or AVERAGE


@dataclass(frozen=True)
class InstrumentInfo:
    instrument_id: str
    currency: str
    is_bond: bool  # marked at clean price per 100 of face


@dataclass(slots=True)
class PendingFill:
    """A fill booked on trade date whose cash has not settled yet. net_amount is positive, as on the fill."""

    fill_id: str
    mandate_id: str
    instrument_id: str
    side: str  # BUY or SELL
    currency: str
    net_amount: Decimal
    settle_date: dt.date  # contractual
    event_id: str

    @property
    def signed_cash(self) -> Decimal:
        """The cash it will move, from the mandate's side: a buy pays (-), a sell receives (+)."""
        return -self.net_amount if self.side == "BUY" else self.net_amount


@dataclass(slots=True)
class PendingFx:
    """An FX deal booked on its trade date whose legs have not settled yet; amounts positive, as on
    the deal."""

    deal_id: str
    mandate_id: str
    bought_currency: str
    bought_amount: Decimal
    sold_currency: str
    sold_amount: Decimal
    settle_date: dt.date  # contractual
    event_id: str

    def to_state(self) -> list[str]:
        return [
            self.deal_id,
            self.mandate_id,
            self.bought_currency,
            str(self.bought_amount),
            self.sold_currency,
            str(self.sold_amount),
            self.settle_date.isoformat(),
            self.event_id,
        ]

    @classmethod
    def from_state(cls, row: list[str]) -> PendingFx:
        deal_id, mandate_id, bought_ccy, bought, sold_ccy, sold, settle_date, event_id = row
        return cls(
            deal_id,
            mandate_id,
            bought_ccy,
            Decimal(bought),
            sold_ccy,
            Decimal(sold),
            dt.date.fromisoformat(settle_date),
            event_id,
        )


@dataclass(slots=True)
class Dividend:
    """An announced cash dividend; accrued: mandate -> amount accrued at the ex-date, not yet paid."""

    action_id: str
    instrument_id: str
    currency: str
    amount_per_unit: Decimal
    ex_date: dt.date
    pay_date: dt.date
    event_id: str
    accrual_done: bool = False
    accrued: dict[str, Decimal] = field(default_factory=dict)


@dataclass(slots=True)
class BookState:
    """Everything LedgerBook remembers; see rules.LedgerBook for each field's meaning."""

    mandates: dict[str, MandateInfo]
    instruments: dict[str, InstrumentInfo]
    date: dt.date | None
    lots: dict[str, dict[str, Lots]]
    unrealized: dict[str, dict[str, Decimal]]
    pending_fills: dict[str, PendingFill]
    dividends: dict[str, Dividend]
    prices: dict[str, Decimal]
    fx_pairs: dict[str, Decimal]
    non_base: dict[str, dict[tuple[str, str], list[Decimal]]]
    accrued_per_100: dict[str, Decimal]
    accrued_interest: dict[str, dict[str, Decimal]]
    pending_fx: dict[str, PendingFx] = field(default_factory=dict)


def _decimals(values: dict[str, Decimal]) -> dict[str, str]:
    return {k: str(v) for k, v in values.items()}


def _from_decimals(values: dict[str, str]) -> dict[str, Decimal]:
    return {k: Decimal(v) for k, v in values.items()}


def state_to_json(state: BookState) -> str:
    body: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "mandates": [[m.mandate_id, m.base_currency, m.lot_method] for m in state.mandates.values()],
        "instruments": [[i.instrument_id, i.currency, i.is_bond] for i in state.instruments.values()],
        "date": state.date.isoformat() if state.date else None,
        "lots": {m: {i: lots.to_state() for i, lots in by_id.items()} for m, by_id in state.lots.items()},
        "unrealized": {m: _decimals(marks) for m, marks in state.unrealized.items()},
        "pending_fills": [
            [
                p.fill_id,
                p.mandate_id,
                p.instrument_id,
                p.side,
                p.currency,
                str(p.net_amount),
                p.settle_date.isoformat(),
                p.event_id,
            ]
            for p in state.pending_fills.values()
        ],
        "dividends": [
            {
                "action_id": d.action_id,
                "instrument_id": d.instrument_id,
                "currency": d.currency,
                "amount_per_unit": str(d.amount_per_unit),
                "ex_date": d.ex_date.isoformat(),
                "pay_date": d.pay_date.isoformat(),
                "event_id": d.event_id,
                "accrual_done": d.accrual_done,
                "accrued": _decimals(d.accrued),
            }
            for d in state.dividends.values()
        ],
        "prices": _decimals(state.prices),
        "fx": _decimals(state.fx_pairs),
        "non_base": {
            m: [[account, ccy, str(amount), str(base)] for (account, ccy), (amount, base) in balances.items()]
            for m, balances in state.non_base.items()
        },
        "accrued_per_100": _decimals(state.accrued_per_100),
        "accrued_interest": {m: _decimals(carried) for m, carried in state.accrued_interest.items()},
        "pending_fx": [p.to_state() for p in state.pending_fx.values()],
    }
    return json.dumps(body, separators=(",", ":"))


def state_from_json(text: str) -> BookState:
    body = json.loads(text)
    # Snapshots written before the book stopped remembering settled fills still carry a "settled" key;
    # it is ignored (a settlement of a fill no longer pending posts nothing either way).
    version = body.get("version")
    if version not in READABLE_VERSIONS:
        *earlier, last = (str(v) for v in READABLE_VERSIONS)
        readable = f"{', '.join(earlier)} or {last}"
        raise ValueError(f"ledger book state version {version!r} is not {readable}")
    mandates = {m: MandateInfo(m, base, method) for m, base, method in body["mandates"]}
    instruments = {i: InstrumentInfo(i, ccy, bool(bond)) for i, ccy, bond in body["instruments"]}

    accrued_per_100, accrued_interest = _accruals(body, version, mandates)

    def lots_of(mandate_id: str, instrument_id: str, state: list[list[str]]) -> Lots:
        quantum = chart.quantum(instruments[instrument_id].currency)
        return Lots.from_state(mandates[mandate_id].lot_method, quantum, state)

    return BookState(
        mandates=mandates,
        instruments=instruments,
        date=dt.date.fromisoformat(body["date"]) if body["date"] else None,
        lots={m: {i: lots_of(m, i, s) for i, s in by_id.items()} for m, by_id in body["lots"].items()},
        unrealized={m: _from_decimals(marks) for m, marks in body["unrealized"].items()},
        pending_fills={
            p[0]: PendingFill(p[0], p[1], p[2], p[3], p[4], Decimal(p[5]), dt.date.fromisoformat(p[6]), p[7])
            for p in body["pending_fills"]
        },
        dividends={
            d["action_id"]: Dividend(
                action_id=d["action_id"],
                instrument_id=d["instrument_id"],
                currency=d["currency"],
                amount_per_unit=Decimal(d["amount_per_unit"]),
                ex_date=dt.date.fromisoformat(d["ex_date"]),
                pay_date=dt.date.fromisoformat(d["pay_date"]),
                event_id=d["event_id"],
                accrual_done=d["accrual_done"],
                accrued=_from_decimals(d["accrued"]),
            )
            for d in body["dividends"]
        },
        prices=_from_decimals(body["prices"]),
        fx_pairs=_from_decimals(body["fx"]),
        non_base={
            m: {(account, ccy): [Decimal(amount), Decimal(base)] for account, ccy, amount, base in rows}
            for m, rows in body["non_base"].items()
        },
        accrued_per_100=accrued_per_100,
        accrued_interest=accrued_interest,
        # Versions 1 and 2 were written before the stream had FX deals: none pending.
        pending_fx={row[0]: PendingFx.from_state(row) for row in body.get("pending_fx", [])},
    )


def _accruals(
    body: dict[str, Any], version: int, mandates: dict[str, MandateInfo]
) -> tuple[dict[str, Decimal], dict[str, dict[str, Decimal]]]:
    """(accrued per 100 quoted, mandate -> accrued interest carried); version 1 carried neither: none
    quoted, none booked (see the module docstring)."""
    if version == 1:
        return {}, {m: {} for m in mandates}
    carried = {m: _from_decimals(by_id) for m, by_id in body["accrued_interest"].items()}
    return _from_decimals(body["accrued_per_100"]), carried
