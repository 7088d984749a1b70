"""Reporting benchmark: `python -m bench.reporting_report` (see bench/README.md, "Reporting").

One synthetic mandate (BENCH-USD) with 500 holdings (440 equities in the 11 GICS sectors, 40
government and 20 corporate bonds), valued every business day for five years (1,260 day ends) from
deterministic prices (a seeded numpy generator: a market factor, a factor per sector, each name's own
noise), with a few trades and a flow every month, and a benchmark of four segments (US equity 60 %,
Treasuries 25 %, credit 10 %, cash 5 %, cap-weighted inside each). Every day end is valued with
reporting's own domain (services/reporting/domain/exposure.py for the weights and returns by group,
services/common/nav/valuation.py for the units) and committed through ReportingStore.commit_day_end,
as the stream follower does, into a store in a temporary directory.

Measured, each beside a baseline measured in the same run on the same data:

- GetReport latency (p50/p95/p99 over --calls calls) of the real ReportingServicer served by an
  in-process grpc.aio server (the service's interceptors, no telemetry), called by a blocking gRPC
  client in the same process. Baseline: a straightforward pandas implementation of the same
  calculations (the six periods' linked returns, volatility and tracking error; Brinson-Fachler per
  day by sector and by asset class; Carino linking over each period), timed twice: reading the same
  rows from the same SQLite file (pd.read_sql and the exposure JSON), and from frames already in
  memory.
- A year's full recomputation: the last 252 day ends valued and attributed from scratch (each day's
  weights and returns by group from the previous day end's 500 holdings and the instruments' moves,
  the benchmark's likewise, Brinson-Fachler each day, the six periods of that year linked), by
  reporting's domain and by pandas (groupby over the same holdings, constituents and returns).

pandas must agree with reporting to 1e-9 on every figure it computes (every period's returns,
volatility, tracking error, and every group's weights, returns and linked effects); the bench stops
if it does not.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import platform
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pandas as pd

from opsuite.reporting.v1 import reporting_pb2, reporting_pb2_grpc
from services.common.availability import Availability
from services.common.market_events import (
    AssetClass,
    BenchmarkConstituent,
    BenchmarkSegment,
    Instrument,
    Mandate,
)
from services.common.money import quantize_money
from services.common.nav.valuation import CashValue, DayValuation, HoldingValue, NavBreakdown, UnitRegister
from services.common.request_decoding import RequestDecoding
from services.common.serve import SERVER_OPTIONS
from services.reporting import codec, server
from services.reporting.domain import running
from services.reporting.domain.daily import ValuedDay
from services.reporting.domain.exposure import (
    Currency,
    Exposure,
    benchmark_exposure,
    currency_days,
    daily_cash_rate,
    portfolio_exposure,
)
from services.reporting.domain.periods import DailyPoint, Period, figures
from services.reporting.domain.total_returns import Move
from services.reporting.ledger_view import no_ledger
from services.reporting.store import DayExposure, ReportingStore

ROOT = Path(__file__).resolve().parent.parent
SEED = 7
DAYS = 1260
YEAR = 252
HOLDINGS = 500
START = dt.date(2019, 1, 2)
MANDATE_ID = "BENCH-USD"
TOLERANCE = 1e-9
SQRT_YEAR = math.sqrt(252)
SECTORS = (
    ("Information Technology", 0.20),
    ("Health Care", 0.12),
    ("Financials", 0.12),
    ("Consumer Discretionary", 0.11),
    ("Communication Services", 0.09),
    ("Industrials", 0.09),
    ("Consumer Staples", 0.07),
    ("Energy", 0.05),
    ("Utilities", 0.05),
    ("Real Estate", 0.05),
    ("Materials", 0.05),
)
GOVERNMENT, CORPORATE = "Government", "Corporate"


# ---------------------------------------------------------------- the synthetic mandate


def make_reference(holdings: int, rng: np.random.Generator) -> tuple[Mandate, list[Instrument]]:
    governments = holdings * 8 // 100
    corporates = holdings * 4 // 100
    equities = holdings - governments - corporates
    sector_names = [name for name, _ in SECTORS]
    shares = np.array([share for _, share in SECTORS])
    drawn = rng.choice(len(SECTORS), size=equities, p=shares / shares.sum())
    instruments = [
        Instrument(
            f"EQ{i:04d}", f"E{i:04d}", f"Equity {i}", AssetClass.EQUITY, "USD",
            sector_names[int(drawn[i])], "US", Decimal("0.01"), 2,
        )
        for i in range(equities)
    ]  # fmt: skip
    for i in range(governments + corporates):
        government = i < governments
        instruments.append(
            Instrument(
                f"{'GV' if government else 'CB'}{i:04d}", f"B{i:04d}", f"Bond {i}",
                AssetClass.GOVERNMENT_BOND if government else AssetClass.CORPORATE_BOND, "USD",
                GOVERNMENT if government else CORPORATE, "US", Decimal("0.0001"), 1,
                coupon_rate_pct=Decimal("3"), maturity=dt.date(2045, 6, 30), coupons_per_year=2,
            )
        )  # fmt: skip
    units = rng.uniform(1e8, 5e9, size=len(instruments))

    def constituents(kind: AssetClass) -> tuple[BenchmarkConstituent, ...]:
        return tuple(
            BenchmarkConstituent(inst.instrument_id, Decimal(int(units[i])))
            for i, inst in enumerate(instruments)
            if inst.asset_class is kind
        )

    segments = (
        BenchmarkSegment("US equity", 0.60, AssetClass.EQUITY, "USD", constituents(AssetClass.EQUITY)),
        BenchmarkSegment(
            "US Treasuries", 0.25, AssetClass.GOVERNMENT_BOND, "USD", constituents(AssetClass.GOVERNMENT_BOND)
        ),
        BenchmarkSegment(
            "US credit", 0.10, AssetClass.CORPORATE_BOND, "USD", constituents(AssetClass.CORPORATE_BOND)
        ),
        BenchmarkSegment("Cash", 0.05, None, "USD"),
    )
    mandate = Mandate(
        MANDATE_ID, "Benchmark balanced fund", "USD", "60% US equity, 25% Treasuries, 10% credit, 5% cash",
        {"EQUITY": 0.60, "GOVERNMENT_BOND": 0.25, "CORPORATE_BOND": 0.10, "CASH": 0.05}, (), 0.05, 0.0, 0.2,
        Decimal("500000000"), "FIFO", (AssetClass.EQUITY, AssetClass.GOVERNMENT_BOND, AssetClass.CORPORATE_BOND),
        segments, 0.0,
    )  # fmt: skip
    return mandate, instruments


@dataclass
class DayInputs:
    """What valuing one day end from scratch starts from: the previous day end's valuation, the
    instruments' moves since, the day's cash rate, and the day's own valuation (NAV and flows)."""

    previous: DayValuation
    weighted_on: dt.date
    moves: dict[str, Move]
    cash_rate: Mapping[str, Decimal]
    day: ValuedDay


# What a report of the bench's one-currency mandate attributes by (exposure.reported_dimensions).
REPORTED = ("sector", "asset_class")


def usd_only(cash_rate: Mapping[str, Decimal]) -> dict[str, Currency]:
    """The bench mandate's one currency: no move, the day's USD cash rate."""
    return currency_days("USD", ["USD"], None, lambda _: Decimal(1), cash_rate)


class Market:
    """Deterministic synthetic prices, trades and flows for one mandate, one business day at a time."""

    def __init__(self, days: int, holdings: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.mandate, self.instruments = make_reference(holdings, self.rng)
        self.by_id = {i.instrument_id: i for i in self.instruments}
        self.n = len(self.instruments)
        self.days = days
        self.dates = [
            d.astype(dt.date) for d in np.busday_offset(np.datetime64(START), np.arange(days), roll="forward")
        ]
        equity = np.array([i.asset_class is AssetClass.EQUITY for i in self.instruments])
        self.bond = ~equity
        sector_of = {name: k for k, (name, _) in enumerate(SECTORS)}
        sector_of.update({GOVERNMENT: len(SECTORS), CORPORATE: len(SECTORS) + 1})
        self.sector = np.array([sector_of[i.sector] for i in self.instruments])
        self.beta = np.where(equity, self.rng.uniform(0.6, 1.4, self.n), self.rng.uniform(0.0, 0.1, self.n))
        self.own_vol = np.where(equity, self.rng.uniform(0.008, 0.02, self.n), 0.002)
        self.price = np.where(equity, self.rng.uniform(20, 300, self.n), self.rng.uniform(90, 110, self.n))
        # Quantities: a 60/40-ish book of about 500 million, tilted away from the benchmark.
        value = np.where(equity, 0.63 / equity.sum(), 0.35 / self.bond.sum()) * self.rng.uniform(
            0.3, 1.7, self.n
        )
        value *= 5e8
        unit = np.where(self.bond, self.price / 100, self.price)
        self.quantity = np.maximum(1, np.round(value / unit / np.where(self.bond, 1000, 1))) * np.where(
            self.bond, 1000, 1
        )
        self.register = UnitRegister()
        self.cash = Decimal(0)

    def _prices(self) -> list[Decimal]:
        return [Decimal(f"{p:.4f}") for p in self.price]

    def _valuation(self, t: int, prices: Sequence[Decimal], flows: Decimal) -> DayValuation:
        holdings = []
        for k, inst in enumerate(self.instruments):
            quantity = Decimal(int(self.quantity[k]))
            mv = quantize_money(quantity * prices[k] / 100 if self.bond[k] else quantity * prices[k], "USD")
            holdings.append(
                HoldingValue(
                    inst.instrument_id, "USD", quantity, prices[k], self.dates[t], mv, Decimal(0), Decimal(1),
                    mv, Decimal(0),
                )
            )  # fmt: skip
        securities = sum((h.base_market_value for h in holdings), Decimal(0))
        return DayValuation(
            MANDATE_ID, self.dates[t], t + 1, "USD", NavBreakdown(securities, self.cash, Decimal(0), Decimal(0)),
            tuple(holdings), (CashValue("USD", self.cash, Decimal(1), self.cash),), flows,
        )  # fmt: skip

    def run(self, keep_from: int) -> Iterator[tuple[ValuedDay, DayInputs | None]]:
        """Each day end valued, with its inputs from day keep_from on (None before)."""
        rng = self.rng
        prices = self._prices()
        securities = sum(
            quantize_money(Decimal(int(q)) * p / 100 if b else Decimal(int(q)) * p, "USD")
            for q, p, b in zip(self.quantity, prices, self.bond, strict=True)
        )
        self.cash = (securities * Decimal("0.02")).quantize(Decimal("0.01"))
        first = self._valuation(0, prices, securities + self.cash)
        yield ValuedDay(first, self.register.deal(first), None, None), None
        previous = first
        for t in range(1, self.days):
            market = rng.normal(0.0003, 0.009)
            sectors = rng.normal(0.0, 0.005, len(SECTORS) + 2)
            noise = rng.normal(0.0, 1.0, self.n) * self.own_vol
            move = np.where(self.bond, 0.00008 + 0.15 * market * self.beta, self.beta * market)
            self.price = self.price * np.exp(
                move + sectors[self.sector] * np.where(self.bond, 0.3, 1.0) + noise
            )
            before = prices
            prices = self._prices()
            moves = {}
            for k, inst in enumerate(self.instruments):
                unit_before = before[k] / 100 if self.bond[k] else before[k]
                moves[inst.instrument_id] = Move(unit_before, prices[k] / before[k] - 1)
            # Trades at the close: ten names bought or sold, cash moving the other way.
            for k in rng.choice(self.n, size=10, replace=False):
                lot = 1000 if self.bond[k] else 1
                change = int(np.rint(self.quantity[k] * rng.uniform(-0.15, 0.15) / lot)) * lot
                change = max(change, -int(self.quantity[k]) + lot)
                self.quantity[k] += change
                unit = prices[k] / 100 if self.bond[k] else prices[k]
                self.cash -= quantize_money(Decimal(change) * unit, "USD")
            flows = Decimal(0)
            if t % 21 == 0:  # a subscription or a redemption every month
                flows = (previous.nav * Decimal("0.004" if t % 42 else "-0.003")).quantize(Decimal("0.01"))
                self.cash += flows
            valuation = self._valuation(t, prices, flows)
            weighted_on = self.dates[t - 1]
            cash_rate = daily_cash_rate(2.0 + 1.5 * math.sin(t / 200), (self.dates[t] - weighted_on).days)
            currencies = usd_only(cash_rate)
            portfolio = portfolio_exposure(previous, self.by_id, moves, currencies)
            benchmark = benchmark_exposure(self.mandate, self.by_id, weighted_on, moves, currencies)
            day = ValuedDay(
                valuation,
                self.register.deal(valuation),
                portfolio,
                benchmark,
                cash_rate.get("USD", Decimal(0)),
            )
            inputs = DayInputs(previous, weighted_on, moves, cash_rate, day) if t >= keep_from else None
            yield day, inputs
            previous = valuation


# ---------------------------------------------------------------- pandas: the same calculations

PERIOD_NAMES = {p: p.value for p in Period}


def pandas_history(rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """date, nav, flows, r, b, rf from (date, nav, flows, daily_return, benchmark_return, risk_free)."""
    frame = pd.DataFrame(rows, columns=["date", "nav", "flows", "r", "b", "rf"])
    frame["date"] = pd.to_datetime(frame["date"])
    for column in ("nav", "flows", "r", "b", "rf"):
        frame[column] = pd.to_numeric(frame[column])
    return frame


def pandas_exposures_from_json(rows: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """date, dimension, group, wp, rp, wb, rb (days with both sides), from the stored exposure JSON."""
    sides: dict[str, list[tuple[str, str, str, float, float]]] = {"portfolio": [], "benchmark": []}
    for date, text in rows:
        data = json.loads(text)
        if data["portfolio"] is None or data["benchmark"] is None:
            continue
        for side, records in sides.items():
            for dimension, groups in data[side]["groups"].items():
                if dimension not in REPORTED:
                    continue
                for name, (w, r, *_) in groups.items():
                    records.append((date, dimension, name, float(w), float(r)))
    return _joined(
        pd.DataFrame(sides["portfolio"], columns=["date", "dimension", "group", "wp", "rp"]),
        pd.DataFrame(sides["benchmark"], columns=["date", "dimension", "group", "wb", "rb"]),
    )


def _joined(portfolio: pd.DataFrame, benchmark: pd.DataFrame) -> pd.DataFrame:
    frame = portfolio.merge(benchmark, on=["date", "dimension", "group"], how="outer").fillna(0.0)
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def pandas_bases(dates: pd.Series) -> dict[str, int]:
    """Each period's base day end (its position in dates), -1 for the fund's inception."""
    end = dates.iloc[-1]
    boundaries = {
        "MTD": end.replace(day=1),
        "QTD": pd.Timestamp(end.year, 3 * ((end.month - 1) // 3) + 1, 1),
        "YTD": pd.Timestamp(end.year, 1, 1),
        "1Y": end - pd.DateOffset(years=1) + pd.Timedelta(days=1),
    }
    bases = {"1D": len(dates) - 2, "SI": -1}
    bases.update({name: int((dates < boundary).sum()) - 1 for name, boundary in boundaries.items()})
    return bases


def _scale(p: Any, b: Any) -> Any:
    """Carino's k: (ln(1 + R_p) - ln(1 + R_b)) / (R_p - R_b), 1 / (1 + R) where they are equal."""
    same = p == b
    return np.where(same, 1 / (1 + p), (np.log1p(p) - np.log1p(b)) / np.where(same, 1.0, p - b))


def pandas_report(history: pd.DataFrame, exposures: pd.DataFrame) -> dict[str, Any]:
    """The figures GetReport gives, computed the straightforward pandas way."""
    out: dict[str, Any] = {"performance": {}, "attribution": {}}
    dates = history["date"]
    e = exposures.copy()
    totals = (
        e.assign(cp=e["wp"] * e["rp"], cb=e["wb"] * e["rb"])
        .groupby(["dimension", "date"])[["cp", "cb"]]
        .sum()
    )
    e = e.join(totals, on=["dimension", "date"])
    e["allocation"] = (e["wp"] - e["wb"]) * (e["rb"] - e["cb"])
    e["selection"] = e["wb"] * (e["rp"] - e["rb"])
    e["interaction"] = (e["wp"] - e["wb"]) * (e["rp"] - e["rb"])
    for period, base in pandas_bases(dates).items():
        days = history.iloc[base + 1 :]
        start = dates.iloc[max(base, 0)]
        r, b = days["r"].dropna(), days["b"].dropna()
        paired = days.dropna(subset=["r", "b"])
        active = paired["r"] - paired["b"]
        out["performance"][period] = {
            "portfolio_return": float((1 + r).prod() - 1),
            "benchmark_return": float((1 + b).prod() - 1) if len(b) else 0.0,
            "volatility": float(r.std(ddof=1) * SQRT_YEAR) if len(r) >= 2 else 0.0,
            "tracking_error": float(active.std(ddof=1) * SQRT_YEAR) if len(active) >= 2 else 0.0,
        }
        covered = e[(e["date"] > start) & (e["date"] <= dates.iloc[-1])]
        for dimension, rows in covered.groupby("dimension", sort=False):
            daily = rows.groupby("date")[["cp", "cb"]].first()
            linked_p, linked_b = (1 + daily["cp"]).prod() - 1, (1 + daily["cb"]).prod() - 1
            k = pd.Series(_scale(daily["cp"].to_numpy(), daily["cb"].to_numpy()), index=daily.index)
            big_k = float(_scale(np.float64(linked_p), np.float64(linked_b)))
            scaled = rows[["allocation", "selection", "interaction"]].mul(rows["date"].map(k), axis=0)
            effects = scaled.groupby(rows["group"]).sum() / big_k
            held_p = rows[rows["wp"] != 0].groupby("group")["rp"].apply(lambda x: (1 + x).prod() - 1)
            held_b = rows[rows["wb"] != 0].groupby("group")["rb"].apply(lambda x: (1 + x).prod() - 1)
            weights = rows.groupby("group")[["wp", "wb"]].sum() / len(daily)
            groups = {}
            for name in effects.index:
                groups[name] = {
                    "portfolio_weight": float(weights.at[name, "wp"]),
                    "benchmark_weight": float(weights.at[name, "wb"]),
                    "portfolio_return": float(held_p.get(name, 0.0)),
                    "benchmark_return": float(held_b.get(name, 0.0)),
                    "allocation_effect": float(effects.at[name, "allocation"]),
                    "selection_effect": float(effects.at[name, "selection"]),
                    "interaction_effect": float(effects.at[name, "interaction"]),
                }
            out["attribution"][(period, dimension)] = {
                "groups": groups,
                "total_active_return": float(linked_p - linked_b),
            }
    return out


def pandas_exposures_from_holdings(holdings: pd.DataFrame, constituents: pd.DataFrame) -> pd.DataFrame:
    """Each day's weights and returns by group (the long frame above), from the previous day end's
    holdings and the benchmark's constituents, as exposure.py computes them."""
    parts_p, parts_b = [], []
    h = holdings.assign(w=holdings["value"] / holdings["nav_before"])
    h["c"] = h["w"] * h["r"]
    c = constituents.assign(
        w=constituents["segment_weight"]
        * constituents["cap"]
        / constituents.groupby(["date", "segment"])["cap"].transform("sum")
    )
    c["c"] = c["w"] * c["r"]
    for dimension in REPORTED:
        g = (
            h.groupby(["date", dimension])[["w", "c"]]
            .sum()
            .reset_index()
            .rename(columns={dimension: "group"})
        )
        cash = (1 - h.groupby("date")["w"].sum()).rename("w").reset_index().assign(group="Cash", c=0.0)
        g = pd.concat([g, cash[["date", "group", "w", "c"]]])
        parts_p.append(g.assign(dimension=dimension))
        gb = (
            c.groupby(["date", dimension])[["w", "c"]]
            .sum()
            .reset_index()
            .rename(columns={dimension: "group"})
        )
        parts_b.append(gb.assign(dimension=dimension))
    p = pd.concat(parts_p)
    p["rp"] = np.where(p["w"] != 0, p["c"] / p["w"].where(p["w"] != 0, 1.0), 0.0)
    b = pd.concat(parts_b)
    b["rb"] = np.where(b["w"] != 0, b["c"] / b["w"].where(b["w"] != 0, 1.0), 0.0)
    return _joined(
        p.rename(columns={"w": "wp"})[["date", "dimension", "group", "wp", "rp"]],
        b.rename(columns={"w": "wb"})[["date", "dimension", "group", "wb", "rb"]],
    )


def recompute_frames(
    year: Sequence[DayInputs], mandate: Mandate, instruments: Mapping[str, Instrument]
) -> dict[str, pd.DataFrame]:
    """The year's inputs as pandas frames (floats), built before any clock starts."""
    holdings, constituents = [], []
    for d in year:
        nav_before = float(d.previous.nav)
        for h in d.previous.holdings:
            inst = instruments[h.instrument_id]
            holdings.append(
                (d.day.valuation.date, inst.sector, str(inst.asset_class),
                 float(h.base_market_value + h.base_accrued_interest), nav_before,
                 float(d.moves[h.instrument_id].total_return))
            )  # fmt: skip
        for segment in mandate.benchmark_segments:
            if segment.asset_class is None:
                constituents.append(
                    (d.day.valuation.date, segment.name, segment.weight, "Cash", "Cash", 1.0,
                     float(d.cash_rate.get(segment.currency, Decimal(0))))
                )  # fmt: skip
                continue
            for c in segment.constituents:
                inst, move = instruments[c.instrument_id], d.moves[c.instrument_id]
                constituents.append(
                    (d.day.valuation.date, segment.name, segment.weight, inst.sector, str(inst.asset_class),
                     float(c.units * move.value_before), float(move.total_return))
                )  # fmt: skip
    history = pandas_history([_history_row(d.day) for d in year])
    return {
        "history": history,
        "holdings": pd.DataFrame(
            holdings, columns=["date", "sector", "asset_class", "value", "nav_before", "r"]
        ).assign(date=lambda f: pd.to_datetime(f["date"])),
        "constituents": pd.DataFrame(
            constituents, columns=["date", "segment", "segment_weight", "sector", "asset_class", "cap", "r"]
        ).assign(date=lambda f: pd.to_datetime(f["date"])),
    }


def _history_row(day: ValuedDay) -> tuple[Any, ...]:
    d = day.dealt
    return (
        day.valuation.date.isoformat(), str(day.valuation.nav), str(day.valuation.flows),
        None if d.daily_return is None else str(d.daily_return),
        None if day.benchmark_return is None else str(day.benchmark_return), str(day.risk_free_return),
    )  # fmt: skip


# ---------------------------------------------------------------- reporting's figures, comparable


GROUP_FIELDS = (
    "portfolio_weight",
    "benchmark_weight",
    "portfolio_return",
    "benchmark_return",
    "allocation_effect",
    "selection_effect",
    "interaction_effect",
)


def report_figures(
    performance: Sequence[reporting_pb2.PeriodPerformance], attribution: Sequence[reporting_pb2.Attribution]
) -> dict[str, Any]:
    names = {number: PERIOD_NAMES[period] for period, number in codec.PERIODS.items()}
    out: dict[str, Any] = {"performance": {}, "attribution": {}}
    for p in performance:
        out["performance"][names[p.period]] = {
            "portfolio_return": p.portfolio_return,
            "benchmark_return": p.benchmark_return,
            "volatility": p.volatility,
            "tracking_error": p.tracking_error,
        }
    for a in attribution:
        out["attribution"][(names[a.period], a.dimension)] = {
            "groups": {g.group: {field: getattr(g, field) for field in GROUP_FIELDS} for g in a.groups},
            "total_active_return": a.total_active_return,
        }
    return out


def assert_agree(ours: Mapping[str, Any], theirs: Mapping[str, Any], what: str) -> int:
    """Every figure pandas computes equals reporting's within TOLERANCE; returns how many were compared."""
    compared = 0

    def close(a: float, b: float, where: str) -> None:
        nonlocal compared
        compared += 1
        if not abs(a - b) <= TOLERANCE:
            raise AssertionError(f"{what}: pandas and reporting disagree at {where}: {b!r} vs {a!r}")

    if set(ours["performance"]) != set(theirs["performance"]):
        raise AssertionError(f"{what}: periods differ")
    for period, figs in theirs["performance"].items():
        for name, value in figs.items():
            close(ours["performance"][period][name], value, f"{period} {name}")
    if set(ours["attribution"]) != set(theirs["attribution"]):
        raise AssertionError(
            f"{what}: attributions differ: {sorted(ours['attribution'])} vs {sorted(theirs['attribution'])}"
        )
    for key, a in theirs["attribution"].items():
        mine = ours["attribution"][key]
        close(mine["total_active_return"], a["total_active_return"], f"{key} total active return")
        if set(mine["groups"]) != set(a["groups"]):
            raise AssertionError(f"{what}: groups differ at {key}")
        for group, figs in a["groups"].items():
            for name, value in figs.items():
                close(mine["groups"][group][name], value, f"{key} {group} {name}")
    return compared


# ---------------------------------------------------------------- the service, in-process


class InProcessServer:
    """The reporting servicer on a grpc.aio server in a thread of its own (its own event loop)."""

    def __init__(self, servicer: server.ReportingServicer) -> None:
        ready: queue.Queue[int] = queue.Queue()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None

        async def serve() -> None:
            self._stop = asyncio.Event()
            availability = Availability(lambda: "")
            srv = grpc.aio.server(options=SERVER_OPTIONS, interceptors=[RequestDecoding(), availability])
            availability.services = server.register(srv, servicer)
            port = srv.add_insecure_port("127.0.0.1:0")
            await srv.start()
            ready.put(port)
            await self._stop.wait()
            await srv.stop(None)

        self._thread = threading.Thread(target=lambda: self._loop.run_until_complete(serve()), daemon=True)
        self._thread.start()
        self.address = f"127.0.0.1:{ready.get(timeout=60)}"

    def close(self) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=60)


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    ms = np.array(samples) * 1000
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "p99_ms": float(np.percentile(ms, 99)),
        "mean_ms": float(ms.mean()),
        "calls": len(samples),
    }


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        seconds, result = _timed(fn)
        best = min(best, seconds)
    return best, result


# ---------------------------------------------------------------- the figures


def build_store(path: Path, days: int, holdings: int, seed: int) -> dict[str, Any]:
    market = Market(days, holdings, seed)
    store = ReportingStore(path)
    year: list[DayInputs] = []
    commit_s = 0.0
    started = time.perf_counter()
    for day, inputs in market.run(keep_from=max(1, days - YEAR)):
        if inputs is not None:
            year.append(inputs)
        seconds, _ = _timed(lambda day=day: store.commit_day_end(day.valuation.seq, "{}", [day]))  # type: ignore[misc]
        commit_s += seconds
    build_s = time.perf_counter() - started
    return {
        "market": market,
        "store": store,
        "year": year,
        "build_s": build_s,
        "commit_ms_per_day": commit_s / days * 1000,
    }


def bench_get_report(store: ReportingStore, market: Market, calls: int, path: Path) -> dict[str, Any]:
    context = server.ReportingContext(
        mandates={MANDATE_ID: market.mandate}, instruments=dict(market.by_id), ledger_view=no_ledger
    )
    running = InProcessServer(server.ReportingServicer(store, context))
    try:
        with grpc.insecure_channel(
            running.address, options=[("grpc.max_receive_message_length", -1)]
        ) as channel:
            stub = reporting_pb2_grpc.ReportingServiceStub(channel)
            request = reporting_pb2.GetReportRequest(mandate_id=MANDATE_ID)
            report = stub.GetReport(request, timeout=600)
            for _ in range(min(5, calls)):  # warm-up
                stub.GetReport(request, timeout=600)
            samples = []
            for _ in range(calls):
                seconds, _ = _timed(lambda: stub.GetReport(request, timeout=600))
                samples.append(seconds)
    finally:
        running.close()
    latency = percentiles(samples)

    # pandas on the same rows of the same file, then from frames already in memory.
    def from_store() -> dict[str, Any]:
        import sqlite3

        with sqlite3.connect(path) as conn:
            history = pandas_history(
                conn.execute(
                    "SELECT date, nav, flows, daily_return, benchmark_return, risk_free_return FROM nav_days"
                    " WHERE mandate_id = ? ORDER BY date",
                    (MANDATE_ID,),
                ).fetchall()
            )
            exposures = pandas_exposures_from_json(
                conn.execute(
                    f"SELECT date, exposure FROM {_exposure_table(conn)} WHERE mandate_id = ? ORDER BY date",
                    (MANDATE_ID,),
                ).fetchall()
            )
        return {"history": history, "exposures": exposures, "figures": pandas_report(history, exposures)}

    pandas_samples = []
    loaded: dict[str, Any] = {}
    for _ in range(max(3, calls // 20)):
        seconds, result = _timed(from_store)
        pandas_samples.append(seconds)
        loaded = result  # type: ignore[assignment]
    compute_samples = []
    for _ in range(max(3, calls // 10)):
        seconds, _ = _timed(lambda: pandas_report(loaded["history"], loaded["exposures"]))
        compute_samples.append(seconds)
    compared = assert_agree(
        report_figures(report.performance, report.attribution), loaded["figures"], "GetReport"
    )
    pandas_store = percentiles(pandas_samples)
    pandas_memory = percentiles(compute_samples)
    return {
        "get_report": latency,
        "report_bytes": report.ByteSize(),
        "attributions": len(report.attribution),
        "holdings": len(report.holdings),
        "pandas_from_store": pandas_store,
        "pandas_in_memory": pandas_memory,
        "pandas_from_store_vs_get_report_p50": pandas_store["p50_ms"] / latency["p50_ms"],
        "pandas_in_memory_vs_get_report_p50": pandas_memory["p50_ms"] / latency["p50_ms"],
        "figures_compared": compared,
    }


def _exposure_table(conn: Any) -> str:
    """The table holding each day's exposure JSON (nav_days before the fast path, nav_details since)."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return "nav_details" if "nav_details" in tables else "nav_days"


def year_exposures(year: Sequence[DayInputs], market: Market) -> list[DayExposure]:
    """Each day's weights and returns by group, portfolio and benchmark (exposure.py), from the
    previous day end's holdings and the day's moves: what valuing a day adds for attribution."""
    return [
        DayExposure(
            d.day.valuation.date,
            portfolio_exposure(d.previous, market.by_id, d.moves, usd_only(d.cash_rate)),
            benchmark_exposure(market.mandate, market.by_id, d.weighted_on, d.moves, usd_only(d.cash_rate)),
        )
        for d in year
    ]


def straightforward_attribution(
    year: Sequence[DayInputs], exposures: Sequence[DayExposure]
) -> tuple[list[Any], list[Any]]:
    """Brinson-Fachler for every day, Carino over each period's days (what GetReport did on every
    call before the running sums): server.attributions."""
    periods = [figures(period, _points(year)) for period in Period]
    return [codec.performance(f, "USD") for f in periods], server.attributions(periods, exposures, REPORTED)


def running_attribution(
    year: Sequence[DayInputs], exposures: Sequence[DayExposure]
) -> tuple[list[Any], list[Any]]:
    """The running sums advanced day by day (what commit_day_end adds to each day end), then each
    period linked from its base's and end's sums (what GetReport does now): server.linked_attributions."""
    sums: dict[dt.date, running.RunningSums] = {}
    regroupings = []
    current = running.START
    for e in exposures:
        current, held = running.advance(current, e.date.isoformat(), e.portfolio, e.benchmark)
        sums[e.date] = current
        if held is not None:
            regroupings.append((e.date, current.days, held))
    periods = [figures(period, _points(year)) for period in Period]
    return [codec.performance(f, "USD") for f in periods], server.linked_attributions(
        periods, sums, regroupings, REPORTED
    )


def _points(year: Sequence[DayInputs]) -> list[DailyPoint]:
    return [
        DailyPoint(
            d.day.valuation.date, d.day.valuation.nav, d.day.valuation.flows,
            float(d.day.dealt.daily_return) if d.day.dealt.daily_return is not None else None,
            float(d.day.benchmark_return) if d.day.benchmark_return is not None else None,
            float(d.day.risk_free_return),
        )
        for d in year
    ]  # fmt: skip


def _same_exposures(year: Sequence[DayInputs], frame: pd.DataFrame) -> int:
    """pandas' weights and returns by group equal the domain's (exposure.py) every day."""
    compared = 0
    indexed = frame.set_index(["date", "dimension", "group"])
    for d in year:
        date = pd.Timestamp(d.day.valuation.date)
        for side, exposure in (("p", d.day.portfolio), ("b", d.day.benchmark)):
            assert isinstance(exposure, Exposure)
            for dimension, groups in exposure.groups.items():
                if dimension not in REPORTED:
                    continue
                for name, g in groups.items():
                    row = indexed.loc[(date, dimension, name)]
                    for mine, theirs in ((g.weight, row[f"w{side}"]), (g.total_return, row[f"r{side}"])):
                        compared += 1
                        if not abs(float(mine) - float(theirs)) <= TOLERANCE:
                            raise AssertionError(f"exposures differ on {date:%Y-%m-%d} {dimension} {name}")
    return compared


def bench_recompute(year: Sequence[DayInputs], market: Market, repeat: int) -> dict[str, Any]:
    frames = recompute_frames(year, market.mandate, market.by_id)
    exposures_s, exposures = _best(lambda: year_exposures(year, market), repeat)
    assert isinstance(exposures, list)
    straightforward_s, straightforward = _best(lambda: straightforward_attribution(year, exposures), repeat)
    running_s, ours = _best(lambda: running_attribution(year, exposures), repeat)
    pandas_exposures_s, pandas_exposures = _best(
        lambda: pandas_exposures_from_holdings(frames["holdings"], frames["constituents"]), repeat
    )
    assert isinstance(pandas_exposures, pd.DataFrame)
    pandas_report_s, theirs = _best(lambda: pandas_report(frames["history"], pandas_exposures), repeat)
    assert isinstance(ours, tuple) and isinstance(straightforward, tuple) and isinstance(theirs, dict)
    compared = _same_exposures(year, pandas_exposures)
    compared += assert_agree(report_figures(*ours), theirs, "the year's recomputation (running sums)")
    compared += assert_agree(
        report_figures(*straightforward), theirs, "the year's recomputation (day by day)"
    )
    pandas_s = pandas_exposures_s + pandas_report_s
    return {
        "days": len(year),
        "exposures_s": exposures_s,
        "straightforward_attribution_s": straightforward_s,
        "running_attribution_s": running_s,
        "straightforward_s": exposures_s + straightforward_s,
        "running_s": exposures_s + running_s,
        "pandas_exposures_s": pandas_exposures_s,
        "pandas_report_s": pandas_report_s,
        "pandas_s": pandas_s,
        "pandas_vs_straightforward": pandas_s / (exposures_s + straightforward_s),
        "pandas_vs_running": pandas_s / (exposures_s + running_s),
        "pandas_attribution_vs_running_attribution": pandas_report_s / running_s,
        "figures_compared": compared,
    }


def main_section(args: argparse.Namespace) -> dict[str, Any]:
    days = int(getattr(args, "reporting_days", DAYS))
    holdings = int(getattr(args, "reporting_holdings", HOLDINGS))
    calls = int(getattr(args, "reporting_calls", 200))
    repeat = int(getattr(args, "reporting_repeat", 3))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reporting.sqlite3"
        print(f"reporting: building {days} day ends of one mandate with {holdings} holdings ...", flush=True)
        built = build_store(path, days, holdings, SEED)
        store, market = built["store"], built["market"]
        size_mb = sum(f.stat().st_size for f in Path(tmp).iterdir()) / 1e6
        print(
            f"  built in {built['build_s']:.0f} s; commit_day_end {built['commit_ms_per_day']:.2f} ms a day end;"
            f" store {size_mb:.0f} MB",
            flush=True,
        )
        print(f"  GetReport x {calls}, then pandas on the same rows ...", flush=True)
        report = bench_get_report(store, market, calls, path)
        g, ps, pm = report["get_report"], report["pandas_from_store"], report["pandas_in_memory"]
        print(
            f"  GetReport           p50 {g['p50_ms']:8.1f} ms  p95 {g['p95_ms']:8.1f} ms  p99 {g['p99_ms']:8.1f} ms"
            f"  ({report['report_bytes']:,} bytes, {report['attributions']} attributions)\n"
            f"  pandas, from store  p50 {ps['p50_ms']:8.1f} ms  = {report['pandas_from_store_vs_get_report_p50']:.2f} x GetReport\n"
            f"  pandas, in memory   p50 {pm['p50_ms']:8.1f} ms  = {report['pandas_in_memory_vs_get_report_p50']:.2f} x GetReport"
            f"  ({report['figures_compared']:,} figures agree to {TOLERANCE:g})",
            flush=True,
        )
        print(f"  a year's full recomputation ({len(built['year'])} days), best of {repeat} ...", flush=True)
        recompute = bench_recompute(built["year"], market, repeat)
        r = recompute
        print(
            f"  exposures from holdings: reporting {r['exposures_s'] * 1000:6.0f} ms"
            f"   pandas {r['pandas_exposures_s'] * 1000:6.0f} ms\n"
            f"  attribution + periods:   reporting, running sums {r['running_attribution_s'] * 1000:6.0f} ms"
            f"   reporting, day by day {r['straightforward_attribution_s'] * 1000:6.0f} ms"
            f"   pandas {r['pandas_report_s'] * 1000:6.0f} ms\n"
            f"  the whole year:          reporting, running sums {r['running_s'] * 1000:6.0f} ms"
            f"   pandas = {r['pandas_vs_running']:.2f} x;"
            f"  day by day {r['straightforward_s'] * 1000:6.0f} ms, pandas = {r['pandas_vs_straightforward']:.2f} x"
            f"  ({r['figures_compared']:,} figures agree to {TOLERANCE:g})",
            flush=True,
        )
        store.close()
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "load_average": os.getloadavg(),
        },
        "days": days,
        "holdings": holdings,
        "seed": SEED,
        "build_s": built["build_s"],
        "commit_ms_per_day": built["commit_ms_per_day"],
        "store_mb": size_mb,
        "report": report,
        "recompute": recompute,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reporting-days", type=int, default=DAYS, help="business days of history (1260)")
    parser.add_argument("--reporting-holdings", type=int, default=HOLDINGS, help="holdings (500)")
    parser.add_argument("--reporting-calls", type=int, default=200, help="GetReport calls timed (200)")
    parser.add_argument(
        "--reporting-repeat", type=int, default=3, help="runs of the recomputation (best kept)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    result = main_section(args)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
