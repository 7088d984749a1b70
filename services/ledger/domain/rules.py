"""The posting rules of docs/ledger-design.md as a state machine over market events.

LedgerBook.apply takes market events in stream order and returns the
journals each one causes; the book's state (lots, pending settlements,
announced dividends and their accruals, last prices and accrued interest
quoted, FX rates, marks, bonds' accrued interest carried, non-base balances)
is what it must remember between events (FX deals not yet settled too), and
to_json/from_json carry it losslessly so a restarted consumer continues
exactly where it stopped. Amounts come from the internal book's events
(fills, internal cash flows); the custodian's messages only trigger
settlement, never set its amount.

Idempotency keys are "mkt:<event_id>" for the journal an event books, and
"mkt:<event_id>:<what>:<mandate>" when one event books several (ex-date
accruals at the day's first event, marks, bonds' accrued interest and FX
revaluation at day end), so a replay of the same stream gives the same keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from services.common.fx_rates import FxRates
from services.common.market_events import (
    CashFlow,
    CashFlowKind,
    CorporateAction,
    CorporateActionKind,
    DayEnd,
    FeeAccrual,
    Fill,
    FxDeal,
    FxQuote,
    FxSettlement,
    Instrument,
    Mandate,
    MarketEvent,
    PriceQuote,
    SettlementState,
    SettlementStatus,
    Side,
    priced_per_100,
)
from services.ledger.domain import chart
from services.ledger.domain.lots import Lots
from services.ledger.domain.records import AccountType, JournalDraft, JournalKind, Posting
from services.ledger.domain.state import (
    BookState,
    Dividend,
    InstrumentInfo,
    MandateInfo,
    PendingFill,
    PendingFx,
    state_from_json,
    state_to_json,
)
from services.ledger.domain.validation import filled_base_amounts

ZERO = Decimal(0)
HUNDRED = Decimal(100)
PRIMARY_VENDOR = "primary"
_REVALUED_ROOTS = (AccountType.ASSETS, AccountType.LIABILITIES)
_CASH_FLOW_KINDS: Mapping[CashFlowKind, JournalKind] = {
    CashFlowKind.DIVIDEND: JournalKind.DIVIDEND,
    CashFlowKind.COUPON: JournalKind.COUPON,
    CashFlowKind.SUBSCRIPTION: JournalKind.SUBSCRIPTION,
    CashFlowKind.REDEMPTION: JournalKind.REDEMPTION,
    CashFlowKind.FEE: JournalKind.FEE,
}


@dataclass(frozen=True, slots=True)
class _Source:
    """The event a journal is booked from."""

    event_id: str
    sim_time: dt.datetime
    trace_id: str
    caused_by: tuple[str, ...]

    @property
    def day(self) -> dt.date:
        return self.sim_time.date()


class LedgerBook:
    """Every mandate's ledger-side state, and the journals each market event causes."""

    def __init__(
        self, mandates: Mapping[str, MandateInfo], instruments: Mapping[str, InstrumentInfo]
    ) -> None:
        self.mandates: dict[str, MandateInfo] = dict(mandates)
        self.instruments: dict[str, InstrumentInfo] = dict(instruments)
        self.date: dt.date | None = None
        self.lots: dict[str, dict[str, Lots]] = {m: {} for m in self.mandates}
        self.unrealized: dict[str, dict[str, Decimal]] = {m: {} for m in self.mandates}
        self.pending_fills: dict[str, PendingFill] = {}
        self.pending_fx: dict[str, PendingFx] = {}  # FX deals booked, not yet settled, by deal id
        self.dividends: dict[str, Dividend] = {}
        self.prices: dict[str, Decimal] = {}
        # instrument -> accrued interest per 100 face of its latest primary quote (bonds' quotes carry it)
        self.accrued_per_100: dict[str, Decimal] = {}
        # mandate -> bond -> accrued interest carried in Assets:AccruedInterest (the last day end's target)
        self.accrued_interest: dict[str, dict[str, Decimal]] = {m: {} for m in self.mandates}
        self.fx = FxRates()
        # mandate -> (account, currency) -> [amount, base amount], Assets and Liabilities not in base currency
        self.non_base: dict[str, dict[tuple[str, str], list[Decimal]]] = {m: {} for m in self.mandates}

    @classmethod
    def from_market(cls, mandates: Iterable[Mandate], instruments: Iterable[Instrument]) -> LedgerBook:
        return cls(
            {
                m.mandate_id: MandateInfo(m.mandate_id, m.base_currency, m.lot_method or "FIFO")
                for m in mandates
            },
            {
                i.instrument_id: InstrumentInfo(i.instrument_id, i.currency, priced_per_100(i.asset_class))
                for i in instruments
            },
        )

    # ------------------------------------------------------------ queries

    def positions(self, mandate_id: str) -> dict[str, Decimal]:
        """instrument -> quantity held (trade date), the non-zero ones."""
        out = {}
        for instrument_id, lots in self.lots.get(mandate_id, {}).items():
            quantity = lots.quantity
            if quantity:
                out[instrument_id] = quantity
        return out

    def pending(self, mandate_id: str, *, due_by: dt.date | None = None) -> dict[str, Decimal]:
        """fill_id -> signed cash still pending settlement (buy -net, sell +net), in fill order.
        due_by: only fills whose contractual settle date is on or before it (they are late)."""
        return {
            p.fill_id: p.signed_cash
            for p in self.pending_fills.values()
            if p.mandate_id == mandate_id and (due_by is None or p.settle_date <= due_by)
        }

    def pending_fill(self, fill_id: str) -> PendingFill | None:
        return self.pending_fills.get(fill_id)

    @property
    def current_date(self) -> dt.date | None:
        """The business date of the last event applied; None before the first."""
        return self.date

    def rate(self, ccy: str, into: str) -> Decimal:
        """Units of `into` per one unit of `ccy` at the latest primary rates; ValueError when unknown."""
        return self.fx.rate(ccy, into)

    # ------------------------------------------------------------ applying events

    def apply(self, event: MarketEvent) -> list[JournalDraft]:
        """The journals `event` causes, in order; the state moves past the event."""
        source = _Source(event.event_id, event.sim_time, event.trace_id, event.caused_by)
        drafts: list[JournalDraft] = []
        if self.date is None or source.day > self.date:
            drafts.extend(self._start_day(source))
            self.date = source.day
        payload = event.payload
        if isinstance(payload, PriceQuote):
            if payload.vendor == PRIMARY_VENDOR:
                self._quoted(payload)
        elif isinstance(payload, FxQuote):
            if payload.vendor == PRIMARY_VENDOR:
                self.fx.update(payload.base_currency, payload.quote_currency, payload.rate)
        elif isinstance(payload, Fill):
            drafts.extend(self._fill(source, payload))
        elif isinstance(payload, SettlementStatus):
            drafts.extend(self._settlement(source, payload))
        elif isinstance(payload, FxDeal):
            drafts.extend(self._fx_deal(source, payload))
        elif isinstance(payload, FxSettlement):
            drafts.extend(self._fx_settlement(source, payload))
        elif isinstance(payload, CorporateAction):
            self._announced(source, payload)
        elif isinstance(payload, CashFlow):
            drafts.extend(self._cash_flow(source, payload))
        elif isinstance(payload, FeeAccrual):
            drafts.extend(self._fee_accrued(source, payload))
        elif isinstance(payload, DayEnd):
            drafts.extend(self._day_end(source))
        return drafts

    def _quoted(self, quote: PriceQuote) -> None:
        """Remember a primary quote: the price the marks use, and the accrued interest the day end carries."""
        self.prices[quote.instrument_id] = quote.price
        if quote.accrued_interest is None:
            # No figure to carry; the day end leaves the bond's accrual as it is until a quote has one.
            self.accrued_per_100.pop(quote.instrument_id, None)
        else:
            self.accrued_per_100[quote.instrument_id] = quote.accrued_interest

    def observe(self, draft: JournalDraft) -> None:
        """Learn the non-base balances of a journal the book did not produce (PostJournal, ReverseJournal),
        so day-end FX revaluation restates them too. The draft must carry its base amounts."""
        self._track_non_base(draft)

    # ------------------------------------------------------------ rules

    def _start_day(self, source: _Source) -> list[JournalDraft]:
        """Ex-date accruals on the position at the start of the day, then forget what is finished."""
        day = source.day
        drafts: list[JournalDraft] = []
        for dividend in self.dividends.values():
            if dividend.accrual_done or dividend.ex_date > day:
                continue
            dividend.accrual_done = True
            ccy = dividend.currency
            for mandate_id in self.mandates:
                lots = self.lots[mandate_id].get(dividend.instrument_id)
                quantity = lots.quantity if lots is not None else ZERO
                if quantity <= 0:
                    continue
                amount = chart.quantize_money(quantity * dividend.amount_per_unit, ccy)
                if amount == 0:
                    continue
                dividend.accrued[mandate_id] = amount
                drafts.extend(
                    self._journal(
                        source,
                        mandate_id,
                        JournalKind.ACCRUAL,
                        [
                            Posting(chart.accrued_income(ccy), amount, ccy),
                            Posting(chart.dividends(ccy), -amount, ccy),
                        ],
                        memo=f"dividend {dividend.action_id} ex {day.isoformat()}: {quantity} "
                        f"{dividend.instrument_id} x {dividend.amount_per_unit} {ccy}",
                        suffix=f"accrual:{dividend.action_id}:{mandate_id}",
                        caused_by=(dividend.event_id,),
                    )
                )
        for action_id in [
            a for a, d in self.dividends.items() if d.accrual_done and not d.accrued and d.pay_date < day
        ]:
            del self.dividends[action_id]
        return drafts

    def _fill(self, source: _Source, fill: Fill) -> list[JournalDraft]:
        mandate = self._mandate(fill.mandate_id)
        instrument = self._instrument(fill.instrument_id)
        ccy = fill.currency or instrument.currency
        quantity, gross = fill.quantity, fill.gross_amount
        accrued, commission, fees, net = fill.accrued_interest, fill.commission, fill.fees, fill.net_amount
        iid = instrument.instrument_id
        lots = self.lots[mandate.mandate_id].get(iid)
        if lots is None:
            lots = Lots(mandate.lot_method, chart.quantum(ccy))
        postings = [Posting(chart.commissions(ccy), commission, ccy), Posting(chart.fees(ccy), fees, ccy)]
        buy = fill.side == Side.BUY
        if buy:
            postings += [
                Posting(
                    chart.securities(iid),
                    gross,
                    ccy,
                    quantity=quantity,
                    instrument_id=iid,
                    lot_id=fill.fill_id,
                ),
                Posting(chart.interest(ccy), accrued, ccy, memo="accrued interest bought"),
                Posting(chart.pending_payable(ccy), -net, ccy),
            ]
            lots.add(fill.fill_id, quantity, gross)
        elif fill.side == Side.SELL:
            held = lots.quantity
            taken = lots.relieve(quantity)
            cost = sum((c for _, _, c in taken), ZERO)
            postings += [Posting(chart.interest(ccy), -accrued, ccy, memo="accrued interest sold")]
            postings += [
                Posting(chart.securities(iid), -c, ccy, quantity=-q, instrument_id=iid, lot_id=lot_id)
                for lot_id, q, c in taken
            ]
            postings.append(
                Posting(chart.realized(ccy), cost - gross, ccy, memo=f"proceeds {gross} - cost {cost}")
            )
            postings.append(Posting(chart.pending_receivable(ccy), net, ccy))
            mark = self.unrealized[mandate.mandate_id].get(iid, ZERO)
            if mark:
                reversed_ = mark if quantity == held else chart.quantize_money(mark * quantity / held, ccy)
                postings += [
                    Posting(chart.unrealized(iid), -reversed_, ccy, memo="unrealized of the quantity sold"),
                    Posting(chart.unrealized_gains(ccy), reversed_, ccy),
                ]
                self._set_mark(mandate.mandate_id, iid, mark - reversed_)
        else:
            raise ValueError(f"fill {fill.fill_id}: side {fill.side} is neither BUY nor SELL")
        if lots.quantity:
            self.lots[mandate.mandate_id][iid] = lots
        else:
            self.lots[mandate.mandate_id].pop(iid, None)
        side = "BUY" if buy else "SELL"
        self.pending_fills[fill.fill_id] = PendingFill(
            fill.fill_id, mandate.mandate_id, iid, side, ccy, net, fill.settle_date, source.event_id
        )
        return self._journal(
            source,
            mandate.mandate_id,
            JournalKind.TRADE,
            postings,
            memo=f"{side} {fill.quantity} {iid} @ {fill.price} ({fill.fill_id})",
        )

    def _settlement(self, source: _Source, status: SettlementStatus) -> list[JournalDraft]:
        """Only the first SETTLED of a fill the ledger booked posts, for the fill's own net amount."""
        if status.state != SettlementState.SETTLED:
            return []
        pending = self.pending_fills.pop(status.fill_id, None)
        if pending is None:
            return []
        ccy, net = pending.currency, pending.net_amount
        if pending.side == "BUY":
            postings = [Posting(chart.pending_payable(ccy), net, ccy), Posting(chart.cash(ccy), -net, ccy)]
        else:
            postings = [Posting(chart.cash(ccy), net, ccy), Posting(chart.pending_receivable(ccy), -net, ccy)]
        return self._journal(
            source,
            pending.mandate_id,
            JournalKind.SETTLEMENT,
            postings,
            memo=f"settlement of {pending.side} {pending.fill_id} (contractual {pending.settle_date.isoformat()})",
        )

    def _fx_deal(self, source: _Source, deal: FxDeal) -> list[JournalDraft]:
        """Trade date: Dr Assets:PendingSettlement in the currency bought, Cr Liabilities:PendingSettlement
        in the currency sold, through Equity:FxConversion in each currency, every leg at the deal's
        base amount (the base leg; the foreign leg x the deal's rate is the same figure), so the journal
        balances in each currency and in base and books no gain on the trade date."""
        mandate = self._mandate(deal.mandate_id)
        base = mandate.base_currency
        bought, sold = (deal.bought_currency, deal.bought_amount), (deal.sold_currency, deal.sold_amount)
        if base not in (bought[0], sold[0]):
            raise ValueError(
                f"FX deal {deal.deal_id}: neither leg is in {deal.mandate_id}'s base currency {base}"
            )

        def base_amount(ccy: str, amount: Decimal) -> Decimal:
            return amount if ccy == base else chart.quantize_money(amount * deal.rate, base)

        bought_base, sold_base = base_amount(*bought), base_amount(*sold)
        postings = [
            Posting(chart.pending_receivable(bought[0]), bought[1], bought[0], base_amount=bought_base),
            Posting(chart.fx_conversion(bought[0]), -bought[1], bought[0], base_amount=-bought_base),
            Posting(chart.fx_conversion(sold[0]), sold[1], sold[0], base_amount=sold_base),
            Posting(chart.pending_payable(sold[0]), -sold[1], sold[0], base_amount=-sold_base),
        ]
        self.pending_fx[deal.deal_id] = PendingFx(
            deal.deal_id,
            mandate.mandate_id,
            bought[0],
            bought[1],
            sold[0],
            sold[1],
            deal.settle_date,
            source.event_id,
        )
        return self._journal(
            source,
            mandate.mandate_id,
            JournalKind.TRADE,
            postings,
            memo=f"FX {deal.deal_id}: buy {bought[1]} {bought[0]}, sell {sold[1]} {sold[0]} at {deal.rate}",
        )

    def _fx_settlement(self, source: _Source, status: FxSettlement) -> list[JournalDraft]:
        """The custodian's first SETTLED report of a deal the ledger booked moves both legs into cash,
        for the deal's own amounts: Dr Cash, Cr Assets:PendingSettlement (bought); Dr
        Liabilities:PendingSettlement, Cr Cash (sold)."""
        if status.state != SettlementState.SETTLED:
            return []
        pending = self.pending_fx.pop(status.deal_id, None)
        if pending is None:
            return []
        bought, sold = (
            (pending.bought_currency, pending.bought_amount),
            (pending.sold_currency, pending.sold_amount),
        )
        postings = [
            Posting(chart.cash(bought[0]), bought[1], bought[0]),
            Posting(chart.pending_receivable(bought[0]), -bought[1], bought[0]),
            Posting(chart.pending_payable(sold[0]), sold[1], sold[0]),
            Posting(chart.cash(sold[0]), -sold[1], sold[0]),
        ]
        return self._journal(
            source,
            pending.mandate_id,
            JournalKind.SETTLEMENT,
            postings,
            memo=f"settlement of FX {pending.deal_id} (contractual {pending.settle_date.isoformat()})",
        )

    def _announced(self, source: _Source, action: CorporateAction) -> None:
        """Dividends are remembered for their ex-date accrual; coupons need nothing until paid."""
        if action.kind != CorporateActionKind.CASH_DIVIDEND or action.action_id in self.dividends:
            return
        self.dividends[action.action_id] = Dividend(
            action_id=action.action_id,
            instrument_id=action.instrument_id,
            currency=action.currency or self._instrument(action.instrument_id).currency,
            amount_per_unit=action.amount_per_unit,
            ex_date=action.ex_date,
            pay_date=action.pay_date,
            event_id=source.event_id,
        )

    def _cash_flow(self, source: _Source, flow: CashFlow) -> list[JournalDraft]:
        kind = _CASH_FLOW_KINDS.get(flow.kind)
        if kind is None:
            raise ValueError(f"cash flow {flow.cash_flow_id}: unknown kind {flow.kind}")
        mandate_id = self._mandate(flow.mandate_id).mandate_id
        amount, ccy = flow.amount, flow.currency
        units = ZERO if flow.quantity is None else flow.quantity
        postings = [Posting(chart.cash(ccy), amount, ccy)]
        memo = f"{JournalKind(kind).lower()} {flow.cash_flow_id}"
        if kind is JournalKind.DIVIDEND:
            dividend = self.dividends.get(flow.action_id)
            accrued = dividend.accrued.pop(mandate_id, None) if dividend is not None else None
            if accrued is None:
                postings.append(Posting(chart.dividends(ccy), -amount, ccy, memo="paid without an accrual"))
            else:
                postings.append(Posting(chart.accrued_income(ccy), -accrued, ccy))
                postings.append(Posting(chart.dividends(ccy), accrued - amount, ccy, memo="paid - accrued"))
            memo += f" ({flow.action_id}, {units} {flow.instrument_id})"
        elif kind is JournalKind.COUPON:
            postings.append(Posting(chart.interest(ccy), -amount, ccy))
            memo += f" ({flow.action_id}, {units} {flow.instrument_id})"
        elif kind in (JournalKind.SUBSCRIPTION, JournalKind.REDEMPTION):
            postings.append(Posting(chart.capital(ccy), -amount, ccy))
        else:
            # A fee paid (negative) settles the management fee accrued: Dr AccruedFees, Cr Cash.
            postings.append(Posting(chart.accrued_fees(ccy), -amount, ccy))
        return self._journal(source, mandate_id, kind, postings, memo=memo)

    def _fee_accrued(self, source: _Source, accrual: FeeAccrual) -> list[JournalDraft]:
        """A day's management fee: Dr Expenses:ManagementFees, Cr Liabilities:AccruedFees."""
        mandate_id = self._mandate(accrual.mandate_id).mandate_id
        amount, ccy = accrual.amount, accrual.currency
        return self._journal(
            source,
            mandate_id,
            JournalKind.ACCRUAL,
            [
                Posting(chart.management_fees(ccy), amount, ccy),
                Posting(chart.accrued_fees(ccy), -amount, ccy),
            ],
            memo=f"management fee {accrual.accrual_date.isoformat()}: {accrual.nav_basis} {ccy} x "
            f"{accrual.annual_rate} x {accrual.days} / 365",
        )

    def _day_end(self, source: _Source) -> list[JournalDraft]:
        drafts: list[JournalDraft] = []
        for mandate_id in self.mandates:
            drafts.extend(self._mark_to_market(source, mandate_id))
            drafts.extend(self._accrue_interest(source, mandate_id))
            drafts.extend(self._revalue(source, mandate_id))
        return drafts

    def _mark_to_market(self, source: _Source, mandate_id: str) -> list[JournalDraft]:
        """Unrealized = market value - cost per instrument; post only the change since the last mark."""
        lots_by_instrument, marks = self.lots[mandate_id], self.unrealized[mandate_id]
        postings: list[Posting] = []
        for iid in sorted(set(lots_by_instrument) | set(marks)):
            price = self.prices.get(iid)
            if price is None:
                continue
            instrument = self._instrument(iid)
            ccy = instrument.currency
            lots = lots_by_instrument.get(iid)
            target = ZERO
            quantity = lots.quantity if lots is not None else ZERO
            if lots is not None and quantity:
                value = quantity * price / HUNDRED if instrument.is_bond else quantity * price
                target = chart.quantize_money(value, ccy) - lots.cost
            change = target - marks.get(iid, ZERO)
            if change:
                postings += [
                    Posting(chart.unrealized(iid), change, ccy, memo=f"{iid} marked at {price}"),
                    Posting(chart.unrealized_gains(ccy), -change, ccy),
                ]
                self._set_mark(mandate_id, iid, target)
        return self._journal(
            source,
            mandate_id,
            JournalKind.MARK_TO_MARKET,
            postings,
            memo="mark to market",
            suffix=f"mtm:{mandate_id}",
        )

    def _accrue_interest(self, source: _Source, mandate_id: str) -> list[JournalDraft]:
        """Carry each bond's accrued interest at the day's quote, as NAV does, so equity at market equals
        NAV: target = qty x accrued per 100 / 100, 0 once sold out; post the change since the last target:
        Dr/Cr Assets:AccruedInterest, Cr/Dr Income:Interest. A purchase's accrued bought (debited to
        Income:Interest by the fill) comes back as the first accrual, and a coupon (credited by the cash
        flow) is offset by the reversal of the accrual it pays, so a coupon period's income is the coupon."""
        lots_by_instrument, carried = self.lots[mandate_id], self.accrued_interest[mandate_id]
        postings: list[Posting] = []
        for iid in sorted(set(lots_by_instrument) | set(carried)):
            instrument = self._instrument(iid)
            if not instrument.is_bond:
                continue
            lots = lots_by_instrument.get(iid)
            quantity = lots.quantity if lots is not None else ZERO
            target, memo = self._accrual_target(instrument, quantity)
            if target is None:
                continue
            ccy = instrument.currency
            change = target - carried.get(iid, ZERO)
            if change:
                postings += [
                    Posting(chart.accrued_interest(ccy), change, ccy, memo=memo),
                    Posting(chart.interest(ccy), -change, ccy, memo=f"accrued interest of {iid}"),
                ]
                self._set_accrual(mandate_id, iid, target)
        return self._journal(
            source,
            mandate_id,
            JournalKind.ACCRUAL,
            postings,
            memo="accrued interest",
            suffix=f"interest:{mandate_id}",
        )

    def _accrual_target(self, instrument: InstrumentInfo, quantity: Decimal) -> tuple[Decimal | None, str]:
        """(accrued interest to carry, memo); None while a bond is held but no quote gave its accrued."""
        iid = instrument.instrument_id
        if not quantity:
            return ZERO, f"{iid} no longer held"
        per_100 = self.accrued_per_100.get(iid)
        if per_100 is None:
            return None, ""
        target = chart.quantize_money(quantity * per_100 / HUNDRED, instrument.currency)
        return target, f"{iid}: {quantity} x {per_100} / 100"

    def _revalue(self, source: _Source, mandate_id: str) -> list[JournalDraft]:
        """Restate non-base asset and liability balances at the closing rate, valuation line by valuation
        line (_revaluation_targets); the change goes to Income:FxRevaluation:<BASE>. Legs carry amount 0
        so each currency still balances."""
        base = self.mandates[mandate_id].base_currency
        targets = self._revaluation_targets(mandate_id, base)
        postings: list[Posting] = []
        total = ZERO
        for (account, ccy), (amount, carried) in sorted(self.non_base[mandate_id].items()):
            change = targets[(account, ccy)] - carried
            if change:
                postings.append(
                    Posting(account, ZERO, ccy, base_amount=change, memo=f"{amount} {ccy} at closing rate")
                )
                total += change
        if not postings:
            return []
        if total or len(postings) < 2:
            postings.append(Posting(chart.fx_revaluation(base), ZERO, base, base_amount=-total))
        return self._journal(
            source,
            mandate_id,
            JournalKind.FX_REVALUATION,
            postings,
            memo="FX revaluation",
            suffix=f"fx:{mandate_id}",
        )

    def _revaluation_targets(self, mandate_id: str, base: str) -> dict[tuple[str, str], Decimal]:
        """The base balance each non-base account is restated to: its valuation lines each converted at
        the closing rate and rounded to the base currency once, as NAV converts them
        (docs/ledger-design.md, "Base currency and FX"):

        - an instrument's market value is one line: Assets:Securities at round(cost x rate), and
          Assets:Unrealized at round((cost + unrealized) x rate) - round(cost x rate), so the two
          together are the market value converted once;
        - Assets:AccruedInterest:<CCY> is one line per bond: the sum of each bond's carried accrual
          converted and rounded (and any other amount in the account converted once);
        - every other account (cash, pending settlements, accrued income and fees, suspense) is one
          line per currency: round(balance x rate)."""
        balances = self.non_base[mandate_id]
        carried_by_bond = self.accrued_interest[mandate_id]
        targets: dict[tuple[str, str], Decimal] = {}
        for (account, ccy), (amount, _) in balances.items():
            rate = self.fx.rate(ccy, base)

            def converted(value: Decimal, rate: Decimal = rate) -> Decimal:
                return chart.quantize_money(value * rate, base)

            if account.startswith(chart.unrealized("")):
                cost = balances.get((chart.securities(chart.instrument_of(account)), ccy), [ZERO, ZERO])[0]
                targets[(account, ccy)] = converted(cost + amount) - converted(cost)
            elif account == chart.accrued_interest(ccy):
                lines = [v for iid, v in carried_by_bond.items() if self._instrument(iid).currency == ccy]
                rest = amount - sum(lines, ZERO)
                targets[(account, ccy)] = sum((converted(v) for v in lines), converted(rest))
            else:
                targets[(account, ccy)] = converted(amount)
        return targets

    # ------------------------------------------------------------ helpers

    def _journal(
        self,
        source: _Source,
        mandate_id: str,
        kind: JournalKind,
        postings: list[Posting],
        *,
        memo: str,
        suffix: str = "",
        caused_by: tuple[str, ...] | None = None,
    ) -> list[JournalDraft]:
        """One draft (zero legs dropped, base amounts filled), or none when nothing moves."""
        legs = tuple(p for p in postings if p.amount or p.quantity or p.base_amount)
        if len(legs) < 2:
            return []
        key = f"mkt:{source.event_id}" + (f":{suffix}" if suffix else "")
        base = self.mandates[mandate_id].base_currency
        rates: dict[str, Decimal] = {}  # a journal converts its legs of one currency at one rate

        def rate(ccy: str) -> Decimal:
            if (found := rates.get(ccy)) is None:
                found = rates[ccy] = self.fx.rate(ccy, base)
            return found

        draft = JournalDraft(
            mandate_id=mandate_id,
            kind=kind,
            effective_date=source.day,
            sim_time=source.sim_time,
            postings=filled_base_amounts(legs, base, rate),
            idempotency_key=key,
            memo=memo,
            source_event_id=source.event_id,
            trace_id=source.trace_id,
            caused_by=source.caused_by if caused_by is None else caused_by,
        )
        self._track_non_base(draft)
        return [draft]

    def _track_non_base(self, draft: JournalDraft) -> None:
        base = self.mandates[draft.mandate_id].base_currency
        balances = self.non_base[draft.mandate_id]
        for posting in draft.postings:
            if posting.currency == base or AccountType.of(posting.account) not in _REVALUED_ROOTS:
                continue
            key = (posting.account, posting.currency)
            amount, carried = balances.get(key, (ZERO, ZERO))
            amount, carried = amount + posting.amount, carried + (posting.base_amount or ZERO)
            if amount or carried:
                balances[key] = [amount, carried]
            else:
                balances.pop(key, None)

    def _set_accrual(self, mandate_id: str, instrument_id: str, value: Decimal) -> None:
        if value:
            self.accrued_interest[mandate_id][instrument_id] = value
        else:
            self.accrued_interest[mandate_id].pop(instrument_id, None)

    def _set_mark(self, mandate_id: str, instrument_id: str, value: Decimal) -> None:
        if value:
            self.unrealized[mandate_id][instrument_id] = value
        else:
            self.unrealized[mandate_id].pop(instrument_id, None)

    def _mandate(self, mandate_id: str) -> MandateInfo:
        try:
            return self.mandates[mandate_id]
        except KeyError:
            raise ValueError(f"mandate {mandate_id!r} is not one of the market's mandates") from None

    def _instrument(self, instrument_id: str) -> InstrumentInfo:
        try:
            return self.instruments[instrument_id]
        except KeyError:
            raise ValueError(f"instrument {instrument_id!r} is not one of the market's instruments") from None

    # ------------------------------------------------------------ persistence

    def to_json(self) -> str:
        """The whole state as JSON: exact decimals as strings, mandates and instruments included."""
        return state_to_json(
            BookState(
                mandates=self.mandates,
                instruments=self.instruments,
                date=self.date,
                lots=self.lots,
                unrealized=self.unrealized,
                pending_fills=self.pending_fills,
                dividends=self.dividends,
                prices=self.prices,
                fx_pairs=self.fx.pairs,
                non_base=self.non_base,
                accrued_per_100=self.accrued_per_100,
                accrued_interest=self.accrued_interest,
                pending_fx=self.pending_fx,
            )
        )

    @classmethod
    def from_json(cls, text: str) -> LedgerBook:
        state = state_from_json(text)
        book = cls(state.mandates, state.instruments)
        book.date = state.date
        book.lots = state.lots
        book.unrealized = state.unrealized
        book.pending_fills = state.pending_fills
        book.dividends = state.dividends
        book.prices = state.prices
        book.fx = FxRates(state.fx_pairs)
        book.non_base = state.non_base
        book.accrued_per_100 = state.accrued_per_100
        book.accrued_interest = state.accrued_interest
        book.pending_fx = state.pending_fx
        return book
