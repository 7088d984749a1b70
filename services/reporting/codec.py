"""reporting's records to the contract's messages (opsuite.reporting.v1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from opsuite.common.v1 import common_pb2
from opsuite.reporting.v1 import reporting_pb2
from services.common.convert import date_to_proto, decimal_to_proto, money_to_proto
from services.common.market_events import Instrument, Mandate
from services.common.nav.valuation import HoldingValue
from services.reporting.domain.attribution import Linked
from services.reporting.domain.comparison import Comparison
from services.reporting.domain.period_attribution import GroupSummary
from services.reporting.domain.periods import Period, PeriodFigures
from services.reporting.domain.quarantine import QuarantinedPrice
from services.reporting.store import NavDay, NavPoint, NavRow

PERIODS: Mapping[Period, int] = {
    Period.DAY: reporting_pb2.PERIOD_DAY,
    Period.MONTH_TO_DATE: reporting_pb2.PERIOD_MONTH_TO_DATE,
    Period.QUARTER_TO_DATE: reporting_pb2.PERIOD_QUARTER_TO_DATE,
    Period.YEAR_TO_DATE: reporting_pb2.PERIOD_YEAR_TO_DATE,
    Period.ONE_YEAR: reporting_pb2.PERIOD_ONE_YEAR,
    Period.SINCE_INCEPTION: reporting_pb2.PERIOD_SINCE_INCEPTION,
}


def asset_class(instrument: Instrument) -> int:
    return int(common_pb2.AssetClass.Value(f"ASSET_CLASS_{instrument.asset_class}"))


def nav(day: NavDay) -> reporting_pb2.Nav:
    v, ccy = day.valuation, day.valuation.base_currency
    return reporting_pb2.Nav(
        nav=money_to_proto(v.nav, ccy),
        securities_value=money_to_proto(v.breakdown.securities_value, ccy),
        cash_value=money_to_proto(v.breakdown.cash_value, ccy),
        accrued_income=money_to_proto(v.breakdown.accrued_income, ccy),
        liabilities=money_to_proto(v.breakdown.liabilities, ccy),
        units_outstanding=decimal_to_proto(day.dealt.units),
        nav_per_unit=money_to_proto(day.dealt.nav_per_unit, ccy),
    )


def holdings(day: NavDay, instruments: Mapping[str, Instrument]) -> list[reporting_pb2.Holding]:
    v, ccy = day.valuation, day.valuation.base_currency
    out = []
    for h in v.holdings:
        instrument = instruments[h.instrument_id]
        base_value = h.base_market_value + h.base_accrued_interest
        out.append(
            reporting_pb2.Holding(
                instrument_id=h.instrument_id,
                symbol=instrument.symbol,
                name=instrument.name,
                asset_class=asset_class(instrument),  # type: ignore[arg-type]
                sector=instrument.sector,
                currency=h.currency,
                **_amounts(h, ccy),
                weight=float(base_value / v.nav) if v.nav else 0.0,
            )
        )
    return out


def _amounts(h: HoldingValue, base_currency: str) -> dict[str, Any]:
    """A holding's message fields, as dicts: upb builds a nested message from a dict about twice as
    fast as from a message, and a report has hundreds of holdings."""
    return {
        "quantity": _decimal(h.quantity),
        "price": _decimal(h.price),
        "price_date": {"year": h.price_date.year, "month": h.price_date.month, "day": h.price_date.day},
        "accrued_interest": _money(h.accrued_interest, h.currency),
        "market_value": _money(h.market_value, h.currency),
        "base_market_value": _money(h.base_market_value, base_currency),
        "fx_rate": _decimal(h.fx_rate),
    }


def _decimal(value: Decimal) -> dict[str, str]:
    """convert.decimal_to_proto's message as a dict of its fields, the same text (plain notation,
    the value's own scale, no negative zero; tests/reporting/service/test_codec.py holds the two
    together)."""
    if not value.is_finite():
        raise ValueError(f"cannot send a non-finite decimal: {value}")
    if not value and value.is_signed():
        value = -value
    return {"value": format(value, "f")}


def _money(amount: Decimal, currency: str) -> dict[str, object]:
    return {"amount": _decimal(amount), "currency": currency}


def cash(day: NavDay) -> list[reporting_pb2.CashHolding]:
    base = day.valuation.base_currency
    return [
        reporting_pb2.CashHolding(
            amount=money_to_proto(c.amount, c.currency),
            base_amount=money_to_proto(c.base_amount, base),
            fx_rate=decimal_to_proto(c.fx_rate),
        )
        for c in day.valuation.cash
    ]


def performance(figures: PeriodFigures, ccy: str) -> reporting_pb2.PeriodPerformance:
    message = reporting_pb2.PeriodPerformance(
        period=PERIODS[figures.period],  # type: ignore[arg-type]
        start=date_to_proto(figures.start),
        end=date_to_proto(figures.end),
        portfolio_return=figures.portfolio_return or 0.0,
        benchmark_return=figures.benchmark_return or 0.0,
        active_return=figures.active_return or 0.0,
        volatility=figures.volatility or 0.0,
        tracking_error=figures.tracking_error or 0.0,
        pnl=money_to_proto(figures.pnl, ccy),
        net_flows=money_to_proto(figures.net_flows, ccy),
        annualised_return=figures.annualised_return or 0.0,
        has_return=figures.portfolio_return is not None,
    )
    # Undefined measures stay absent (optional fields), never 0 or infinity.
    for field, measure in (
        ("sharpe_ratio", figures.sharpe),
        ("sortino_ratio", figures.sortino),
        ("max_drawdown", figures.max_drawdown),
        ("information_ratio", figures.information_ratio),
        ("beta", figures.beta),
    ):
        if measure is not None:
            setattr(message, field, measure)
    return message


def quarantined(prices: Sequence[QuarantinedPrice], ccy: str) -> list[reporting_pb2.QuarantinedPrice]:
    return [
        reporting_pb2.QuarantinedPrice(
            instrument_id=q.instrument_id,
            dq_issue_id=q.issue_id,
            rejected_price=decimal_to_proto(q.rejected_price),
            used_price=decimal_to_proto(q.used_price),
            used_price_date=date_to_proto(q.used_price_date),
            nav_effect=money_to_proto(q.nav_effect, ccy),
        )
        for q in prices
    ]


def comparison(result: Comparison, ccy: str) -> reporting_pb2.LedgerComparison:
    message = reporting_pb2.LedgerComparison(
        status=result.status,
        ledger_market_seq=result.ledger_market_seq,
        detail=result.detail,
        event_id=result.event_id,
        causes=[
            reporting_pb2.NavDifferenceCause(
                journal_id=j.journal_id,
                kind=j.kind,
                effective_date=date_to_proto(j.effective_date),
                memo=j.memo,
                posted_by=j.posted_by,
                equity_effect=money_to_proto(j.equity_effect, ccy),
                caused_by=list(j.caused_by),
            )
            for j in result.causes
        ],
        quarantined_prices=quarantined(result.quarantined, ccy),
    )
    if result.unexplained is not None:
        message.unexplained.CopyFrom(money_to_proto(result.unexplained, ccy))
    if result.ledger_nav is not None:
        message.ledger_nav.CopyFrom(money_to_proto(result.ledger_nav, ccy))
    if result.difference is not None:
        message.difference.CopyFrom(money_to_proto(result.difference, ccy))
    return message


def summary(mandate: Mandate, day: NavDay | None, return_ytd: float | None) -> reporting_pb2.MandateSummary:
    message = reporting_pb2.MandateSummary(
        mandate_id=mandate.mandate_id,
        name=mandate.name,
        base_currency=mandate.base_currency,
        benchmark=mandate.benchmark,
        return_ytd=return_ytd or 0.0,
    )
    if day is not None:
        ccy = mandate.base_currency
        message.nav_date.CopyFrom(date_to_proto(day.valuation.date))
        message.nav.CopyFrom(money_to_proto(day.valuation.nav, ccy))
        message.nav_per_unit.CopyFrom(money_to_proto(day.dealt.nav_per_unit, ccy))
    return message


def nav_point(
    point: NavPoint, ccy: str, cumulative: float, benchmark_cumulative: float
) -> reporting_pb2.NavPoint:
    return reporting_pb2.NavPoint(
        date=date_to_proto(point.date),
        nav=money_to_proto(point.nav, ccy),
        nav_per_unit=money_to_proto(point.nav_per_unit, ccy),
        units_outstanding=decimal_to_proto(point.units),
        net_flows=money_to_proto(point.flows, ccy),
        daily_return=float(point.daily_return) if point.daily_return is not None else 0.0,
        cumulative_return=cumulative,
        benchmark_daily_return=float(point.benchmark_return) if point.benchmark_return is not None else 0.0,
        benchmark_cumulative_return=benchmark_cumulative,
    )


def attribution(
    period: Period, dimension: str, linked: Linked, groups: Sequence[GroupSummary]
) -> reporting_pb2.Attribution:
    effects = {e.segment: e for e in linked.segments}
    return reporting_pb2.Attribution(
        period=PERIODS[period],  # type: ignore[arg-type]
        dimension=dimension,
        groups=[
            reporting_pb2.AttributionGroup(
                group=g.group,
                portfolio_weight=g.portfolio_weight,
                benchmark_weight=g.benchmark_weight,
                portfolio_return=g.portfolio_return,
                benchmark_return=g.benchmark_return,
                allocation_effect=float(effects[g.group].allocation),
                selection_effect=float(effects[g.group].selection),
                interaction_effect=float(effects[g.group].interaction),
                total_effect=float(effects[g.group].total),
                currency_effect=float(effects[g.group].currency),
                cross_effect=float(effects[g.group].cross),
            )
            for g in groups
        ],
        total_allocation_effect=float(sum((e.allocation for e in linked.segments), Decimal(0))),
        total_selection_effect=float(sum((e.selection for e in linked.segments), Decimal(0))),
        total_interaction_effect=float(sum((e.interaction for e in linked.segments), Decimal(0))),
        total_active_return=float(linked.active_return),
        total_currency_effect=float(sum((e.currency for e in linked.segments), Decimal(0))),
        total_cross_effect=float(sum((e.cross for e in linked.segments), Decimal(0))),
    )


def nav_change(row: NavRow, return_ytd: float | None, *, current: bool) -> reporting_pb2.NavChange:
    day, ccy = row.day, row.day.valuation.base_currency
    v = day.valuation
    message = reporting_pb2.NavChange(
        as_of_seq=v.seq,
        mandate_id=v.mandate_id,
        base_currency=ccy,
        as_of_date=date_to_proto(v.date),
        nav=nav(day),
        net_flows=money_to_proto(v.flows, ccy),
        uses_quarantined_prices=bool(day.quarantined),
        current=current,
    )
    if day.dealt.daily_return is not None:
        message.daily_return = float(day.dealt.daily_return)
    if row.benchmark_return is not None:
        message.benchmark_daily_return = float(row.benchmark_return)
    if return_ytd is not None:
        message.return_ytd = return_ytd
    return message
