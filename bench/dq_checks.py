"""dq benchmark: `python -m bench.dq_checks [--quick]` (see bench/README.md, "dq: checks per second").

A simulated year of market's stream (seed 7 from 2020-02-03, the March 2020 crisis included,
market's default fault rate; --quick: 60 business days), generated once, outside every timed
section. A price point is one price.tick or price.vendor quote. Measured in the same run:

- per event, price checks: every market.regime, price.tick, price.vendor and clock.day_end event
  (with the day's held instruments) through PriceChecks, as dq's consumer calls it. The baseline
  every ratio is against.
- per event, the stream as dq checks it: every event dq subscribes to (the consumer's
  CHECKED_KINDS) through the code the consumer runs for each event (services/dq/checking.py's
  StreamChecks: PriceChecks, FxChecks, the custodian feed, the mandates' book, the day end's
  holdings and identifier checks, every result through the IssueBook; no ledger feed), from
  records, and as the live stream: parsing market's EventBatch bytes (256 events a batch) and
  decoding each event (services/common/market_events/decode.py) first. No storage: the consumer's
  commit at each day end is not measured here.
- pandas: a straightforward pandas implementation of the same price checks (non-positive,
  off-tick, vendor divergence with its blame, stale, spike: the robust z net of the peers' median
  move, against a rolling 60-return window with the MAD and its fallback) over the year as
  DataFrames (built outside the timed section). It is not exact: it measures every return from the
  previous day's price and keeps every price in the history (no quarantine, no last good price);
  how far its failures agree with the per-event ones is printed. Also timed: pandas used on a
  stream, judging each of the year's last 5 days as it comes, over the trailing 61 business days
  a day's spike needs (the checks' input a batch validator has to read to judge one day).
- the backfill (services/dq/domain/backfill.py): the year as columns (price_columns, timed on its
  own), then every price check at once; its failing results and counts must equal the per-event
  ones, or the bench stops. Also timed: the same columns through the backfill's per-event fallback.

Timing: every path runs once in each of --rounds rounds (5; the backfill and the columns ten times a
round), in turn, so that all of them see the same load of the shared machine; the figures are the
best of each path's runs, and the medians are kept in the JSON too.

Results: printed, and written to bench/dq_checks.json (--json to write elsewhere).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime as dt
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from opsuite.market.v1 import market_pb2
from services.common.market_events import (
    DayEnd,
    Instrument,
    Mandate,
    MarketEvent,
    PriceQuote,
    RegimeState,
)
from services.common.market_events.decode import decode
from services.common.nav.book import ReportingBook
from services.dq.checking import StreamChecks
from services.dq.consumer import CHECKED_KINDS
from services.dq.domain import backfill as bf
from services.dq.domain.config import CheckSet, load_checks
from services.dq.domain.prices import REFERENCE_VOL, PriceChecks
from services.dq.domain.results import PRIMARY, CheckResult, Family
from services.market.codec import event_to_proto
from services.market.fred import load_macro
from services.market.sim.engine import SimConfig, Simulation

ROOT = Path(__file__).resolve().parent.parent
SEED = 7
START = dt.date(2020, 2, 3)
DAYS = 252
QUICK_DAYS = 60
BATCH = 256
PRICE_KINDS = ("market.regime", "price.tick", "price.vendor", "clock.day_end")
AIM = 1_000_000  # price points a second in the backfill (the aim)
WINDOW = 61  # business days a day's spike needs: the day and its 60-return history
DAILY_SAMPLE = 5  # days pandas judges one at a time (each over its trailing WINDOW days)


# ---------------------------------------------------------------- the year


@dataclasses.dataclass(frozen=True)
class Year:
    instruments: tuple[Instrument, ...]
    mandates: tuple[Mandate, ...]
    events: tuple[MarketEvent, ...]  # everything market published
    held: Mapping[dt.date, frozenset[str]]  # the instruments held at each day end (the book's)

    def of_kinds(self, kinds: Sequence[str]) -> list[MarketEvent]:
        return [e for e in self.events if e.kind in kinds]

    @property
    def price_points(self) -> int:
        return sum(e.kind in ("price.tick", "price.vendor") for e in self.events)

    @property
    def business_days(self) -> int:
        return sum(e.kind == "clock.day_end" for e in self.events)


def simulate(days: int, fault_rate: float = 1.0) -> Year:
    sim = Simulation(SimConfig(seed=SEED, start=START, days=days, fault_rate=fault_rate), load_macro(START))
    events: list[MarketEvent] = []
    while (result := sim.step()) is not None:
        events += result.events
    book = ReportingBook(sim.mandates, sim.instruments)
    held: dict[dt.date, frozenset[str]] = {}
    for event in events:
        ends = book.apply(event)
        if ends:
            held[ends[0].date] = frozenset(iid for end in ends for iid, q in end.positions.items() if q)
    return Year(tuple(sim.instruments), tuple(sim.mandates), tuple(events), held)


# ---------------------------------------------------------------- per event


def per_event_prices(checks: CheckSet, year: Year, events: Sequence[MarketEvent]) -> list[CheckResult]:
    """The price checks alone, event by event, as the consumer calls them; the failing results
    (the results are counted and dropped, as the service drops them once its issues have them)."""
    prices = PriceChecks(checks, year.instruments)
    failing: list[CheckResult] = []
    results: list[CheckResult] = []
    for event in events:
        payload = event.payload
        if isinstance(payload, RegimeState):
            prices.regime(event.event_id, payload)
            continue
        if isinstance(payload, PriceQuote):
            if payload.vendor == PRIMARY:
                results = prices.primary(event.event_id, payload)
            else:
                results = prices.vendor(event.event_id, payload)
        elif isinstance(payload, DayEnd):
            results = prices.day_end(payload.date, year.held.get(payload.date, ()))
        else:
            continue
        failing += [r for r in results if not r.success]
    return failing


class ServiceStream:
    """The service's own per-event code (services/dq/checking.py's StreamChecks, which the consumer
    runs for every event), without a ledger feed, counting its results and issue changes."""

    def __init__(self, checks: CheckSet, year: Year) -> None:
        self.inner = StreamChecks(checks, year.mandates, year.instruments)
        self.results = 0
        self.changes = 0

    def check(self, event: MarketEvent) -> None:
        checked = self.inner.apply(event)
        self.results += len(checked.results)
        self.changes += len(checked.changes)


def stream_checks(checks: CheckSet, year: Year) -> ServiceStream:
    return ServiceStream(checks, year)


def stream_from_records(checks: CheckSet, year: Year, events: Sequence[MarketEvent]) -> ServiceStream:
    stream = stream_checks(checks, year)
    for event in events:
        stream.check(event)
    return stream


def wire_batches(events: Sequence[MarketEvent]) -> list[bytes]:
    """The events as market sends them to a subscriber: EventBatch messages of BATCH events."""
    out = []
    for start in range(0, len(events), BATCH):
        chunk = events[start : start + BATCH]
        batch = market_pb2.EventBatch(events=[event_to_proto(e) for e in chunk], last_seq=chunk[-1].seq)
        out.append(batch.SerializeToString())
    return out


def live_stream(checks: CheckSet, year: Year, batches: Sequence[bytes]) -> ServiceStream:
    """Parse each batch, decode each event, check it: the consumer's apply()."""
    stream = stream_checks(checks, year)
    for raw in batches:
        for message in market_pb2.EventBatch.FromString(raw).events:
            stream.check(decode(message))
    return stream


# ---------------------------------------------------------------- pandas


def pandas_frames(checks: CheckSet, columns: bf.PriceColumns) -> dict[str, pd.DataFrame]:
    """The year's prices, the instruments with their checks' thresholds, and each day's volatility
    factor, as DataFrames (built outside the timed section)."""
    quotes = pd.DataFrame(
        {
            "instrument_id": [q.instrument_id for q in columns.quotes],
            "vendor": [q.vendor for q in columns.quotes],
            "price": [float(q.price) for q in columns.quotes],
            "day": [columns.dates.index(q.price_date) for q in columns.quotes],
        }
    )
    rows = []
    for instrument in columns.instruments:
        attributes = {
            "asset_class": instrument.asset_class.value,
            "currency": instrument.currency,
            "market": instrument.market,
            "instrument_id": instrument.instrument_id,
        }
        row: dict[str, Any] = {
            "instrument_id": instrument.instrument_id,
            "asset_class": instrument.asset_class.value,
            "currency": instrument.currency,
            "tick": float(instrument.tick_size),
        }
        for rule in ("non_positive", "off_tick", "vendor_divergence", "stale", "spike"):
            check = checks.select(Family.PRICE, rule, attributes)
            assert check is not None
            row[f"{rule}_id"] = check.check_id
            row.update({f"{rule}_{name}": value for name, value in check.thresholds.items()})
        rows.append(row)
    vol: float | None = None
    factors = []
    for regime in columns.regimes:
        if regime is not None:
            vol = regime.equity_vol_annual
        factors.append(vol / REFERENCE_VOL if vol else 1.0)
    return {
        "quotes": quotes,
        "instruments": pd.DataFrame(rows),
        "days": pd.DataFrame({"day": range(len(columns.dates)), "vol_factor": factors}),
    }


def _leave_one_out_median(values: pd.Series) -> pd.Series:
    """Each member's peers' median: the median of the group's other values (NaN ignored)."""
    data = values.to_numpy()
    out = np.full(len(data), np.nan)
    for k in range(len(data)):
        others = np.delete(data, k)
        others = others[~np.isnan(others)]
        if len(others):
            out[k] = np.median(others)
    return pd.Series(out, index=values.index)


def _leave_one_out_share(values: pd.Series) -> pd.Series:
    """Each member's share of the other members (with a return) whose price moved."""
    data = values.to_numpy()
    valid = ~np.isnan(data)
    total, count = np.nansum(data), valid.sum()
    others = count - valid
    with np.errstate(divide="ignore", invalid="ignore"):
        share = (total - np.where(valid, data, 0.0)) / others
    return pd.Series(np.where(others > 0, share, np.nan), index=values.index)


def _mad(window: np.ndarray) -> float:
    centre = np.median(window)
    return float(np.median(np.abs(window - centre)))


def _mean_abs(window: np.ndarray) -> float:
    return float(np.mean(np.abs(window - np.median(window))))


def pandas_checks(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The price checks over the whole year in pandas: failing (check_id, instrument_id, vendor, day)."""
    quotes, instruments, days = frames["quotes"], frames["instruments"], frames["days"]
    failures: list[pd.DataFrame] = []

    def fail(rows: pd.DataFrame, check: str, vendor: str | pd.Series) -> None:
        failures.append(
            pd.DataFrame(
                {
                    "check_id": rows[check].to_numpy(),
                    "instrument_id": rows["instrument_id"].to_numpy(),
                    "vendor": vendor if isinstance(vendor, str) else vendor.to_numpy(),
                    "day": rows["day"].to_numpy(),
                }
            )
        )

    q = quotes.merge(instruments, on="instrument_id")
    fail(q[q.price <= 0], "non_positive_id", q.loc[q.price <= 0, "vendor"])
    in_ticks = q.price / q.tick
    off = (in_ticks - in_ticks.round()).abs() > 1e-9
    fail(q[off], "off_tick_id", q.loc[off, "vendor"])

    # One row per instrument and day: the primary and the other vendor side by side.
    primary = q[q.vendor == PRIMARY][["instrument_id", "day", "price"]]
    other = q[q.vendor != PRIMARY][["instrument_id", "day", "price", "vendor"]]
    w = primary.merge(other, on=["instrument_id", "day"], how="outer", suffixes=("_p", "_v"))
    w = w.merge(instruments, on="instrument_id").merge(days, on="day")
    w = w.sort_values(["instrument_id", "day"]).reset_index(drop=True)
    by_instrument = w.groupby("instrument_id", sort=False)
    for leg in ("p", "v"):
        w[f"prev_{leg}"] = by_instrument[f"price_{leg}"].shift(1)

    # The peers' move: the median of the other peers' primary log returns that day.
    ok = (w.price_p > 0) & (w.prev_p > 0)
    w["ret_p"] = np.where(ok, np.log(w.price_p.where(ok) / w.prev_p.where(ok)), np.nan)
    w["moved_p"] = np.where(ok, (w.price_p != w.prev_p).astype(float), np.nan)
    peers = w.groupby(["asset_class", "currency", "day"], sort=False)
    w["peer_median"] = peers["ret_p"].transform(_leave_one_out_median)
    w["peers_moved"] = peers["moved_p"].transform(_leave_one_out_share)
    w["peer_index"] = w.groupby("instrument_id", sort=False)["peer_median"].transform(
        lambda s: s.fillna(0.0).cumsum()
    )
    w["prev_index"] = w.groupby("instrument_id", sort=False)["peer_index"].shift(1)
    factor = np.where(w.spike_regime_scaling == 1, w.vol_factor, 1.0)

    # The spike: the robust z of each vendor's return net of its peers against its last 60.
    for leg in ("p", "v"):
        net = np.log(w[f"price_{leg}"] / w[f"prev_{leg}"]) - (w.peer_index - w.prev_index)
        w[f"net_{leg}"] = net
        w[f"std_{leg}"] = net / factor
        history = w.groupby("instrument_id", sort=False)[f"std_{leg}"].shift(1)
        rolling = history.groupby(w.instrument_id, sort=False).rolling(60, min_periods=1)
        median = rolling.median().reset_index(level=0, drop=True)
        mad = rolling.apply(_mad, raw=True).reset_index(level=0, drop=True)
        count = rolling.count().reset_index(level=0, drop=True)
        spread = 1.4826 * mad
        if (spread == 0).any():
            mean_abs = rolling.apply(_mean_abs, raw=True).reset_index(level=0, drop=True)
            spread = spread.where(spread != 0, 1.2533 * mean_abs)
        scale = np.maximum(spread * factor, w.spike_min_scale)
        scored = count >= w.spike_min_history
        z = (net - median * factor) / scale
        prior = net / (w.spike_min_scale * np.maximum(factor, 1.0))
        w[f"scored_{leg}"] = scored & net.notna()
        w[f"z_{leg}"] = np.where(scored, z, prior)
        w[f"spike_{leg}"] = w[f"scored_{leg}"] & (z.abs() > w.spike_z)

    # Stale: a vendor repeats its price while the other vendor and the peers moved.
    for leg, other_leg in (("p", "v"), ("v", "p")):
        other_move = w[f"price_{other_leg}"] / w[f"prev_{other_leg}"] - 1
        ticks = (w[f"price_{other_leg}"] - w[f"prev_{other_leg}"]).abs() / w.tick
        w[f"stale_{leg}"] = (
            (w[f"price_{leg}"] == w[f"prev_{leg}"])
            & (other_move.abs() >= w.stale_min_other_move)
            & (ticks >= w.stale_min_other_ticks - 1e-9)
            & ~(w[f"z_{other_leg}"].abs() > w.stale_max_other_z)
            & (w.peers_moved.isna() | (w.peers_moved >= w.stale_peer_moved_share))
        )

    # Divergence, and whom to blame (the rules of services/dq/domain/prices.py).
    limit = np.maximum(w.vendor_divergence_tolerance * w.price_p.abs(), w.vendor_divergence_ticks * w.tick)
    diverging = (w.price_v - w.price_p).abs() > limit + 1e-12
    rejected_p, rejected_v = w.price_p <= 0, w.price_v <= 0
    z_p, z_v = w.z_p.abs(), w.z_v.abs()
    floor, ratio = w.vendor_divergence_blame_min_z, w.vendor_divergence_blame_ratio
    blame_v = np.select(
        [rejected_p != rejected_v, w.stale_p != w.stale_v, w.spike_p != w.spike_v],
        [rejected_v, w.stale_v, w.spike_v],
        default=((z_v >= floor) & (z_v >= ratio * z_p)) | ~((z_p >= floor) & (z_p >= ratio * z_v)),
    )
    blame_p = np.select(
        [rejected_p != rejected_v, w.stale_p != w.stale_v, w.spike_p != w.spike_v],
        [rejected_p, w.stale_p, w.spike_p],
        default=~((z_v >= floor) & (z_v >= ratio * z_p)),
    )
    fail(w[diverging & blame_v], "vendor_divergence_id", w.loc[diverging & blame_v, "vendor"])
    fail(w[diverging & blame_p], "vendor_divergence_id", PRIMARY)
    for leg, name in (("p", PRIMARY), ("v", None)):
        for rule in ("stale", "spike"):
            rows = w[w[f"{rule}_{leg}"]]
            fail(rows, f"{rule}_id", name or rows["vendor"])
    return pd.concat(failures, ignore_index=True)


# ---------------------------------------------------------------- timing


def _window(frames: Mapping[str, pd.DataFrame], last: int) -> dict[str, pd.DataFrame]:
    """The frames of the WINDOW business days to day `last` (fewer at the start), renumbered from 0."""
    first = max(0, last - WINDOW + 1)
    out = dict(frames)
    quotes = frames["quotes"]
    out["quotes"] = quotes[(quotes.day >= first) & (quotes.day <= last)].assign(day=lambda q: q.day - first)
    days = frames["days"]
    out["days"] = days[(days.day >= first) & (days.day <= last)].assign(day=lambda d: d.day - first)
    return out


def pandas_daily(frames: Mapping[str, pd.DataFrame], days: int) -> int:
    """pandas used on a stream: each of the last `days` days, the checks over its trailing window
    (what a batch validator must read to judge one day's prices), frames sliced outside the
    checks' time too. Returns the price points judged (the last day's of each window)."""
    last_day = int(frames["days"].day.max())
    judged = 0
    for last in range(last_day - days + 1, last_day + 1):
        window = _window(frames, last)
        pandas_checks(window)
        judged += int((window["quotes"].day == window["days"].day.max()).sum())
    return judged


def _key(result: CheckResult) -> tuple[Any, ...]:
    return (
        result.check_id,
        result.subject,
        result.vendor,
        result.value_date,
        result.observed,
        result.reference,
    )


def _same(ours: bf.Backfill, reference: bf.Backfill, what: str) -> None:
    theirs = collections.Counter(_key(r) for r in reference.failures)
    mine = collections.Counter(_key(r) for r in ours.failures)
    if theirs != mine or dict(ours.evaluated) != dict(reference.evaluated):
        raise SystemExit(
            f"{what}: the backfill disagrees with the per-event path: "
            f"missing {list((theirs - mine).items())[:5]}, extra {list((mine - theirs).items())[:5]}"
        )


class PhaseClock:
    """Wall time spent in chosen methods of the backfill (bench-side instrumentation)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.spent: dict[str, float] = collections.defaultdict(float)
        self._originals = {name: getattr(bf._Year, name) for name in names}

    def __enter__(self) -> PhaseClock:
        for name, original in self._originals.items():

            def timed(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    self.spent[_name] += time.perf_counter() - started

            setattr(bf._Year, name, timed)
        return self

    def __exit__(self, *exc: object) -> None:
        for name, original in self._originals.items():
            setattr(bf._Year, name, original)


def main_section(args: argparse.Namespace) -> dict[str, Any]:
    days = QUICK_DAYS if args.quick else DAYS
    repeat = 1 if args.quick else args.rounds
    load_before = os.getloadavg()
    started = time.perf_counter()
    checks = load_checks()
    year = simulate(days, args.fault_rate)
    price_events = year.of_kinds(PRICE_KINDS)
    dq_events = [e for e in year.events if e.kind.startswith(CHECKED_KINDS)]
    batches = wire_batches(dq_events)
    points = year.price_points
    setup_s = time.perf_counter() - started
    print(
        f"dq checks: {year.business_days} business days from {START}, {len(year.instruments)} instruments, "
        f"{points:,} price points, {len(dq_events):,} events dq reads (setup {setup_s:.1f} s)"
    )

    # Everything the paths check, built once: the columns (timed too), pandas' frames, the fallback.
    columns = bf.price_columns(price_events, year.instruments, year.held)
    assert not columns.unsupported, columns.unsupported
    frames = pandas_frames(checks, columns)
    forced = dataclasses.replace(columns, unsupported="forced by the bench")
    reference = bf.per_event(checks, columns)

    # The paths in rounds, each path once a round (the backfill's short runs several times), so
    # every path sees the same load of this shared machine; the best and the median of each.
    paths: dict[str, Callable[[], object]] = {
        "per_event_prices": lambda: per_event_prices(checks, year, price_events),
        "stream_records": lambda: stream_from_records(checks, year, dq_events),
        "live_stream": lambda: live_stream(checks, year, batches),
        "pandas": lambda: pandas_checks(frames),
        "pandas_daily": lambda: pandas_daily(frames, DAILY_SAMPLE),
        "fallback": lambda: bf.backfill(checks, forced),
        "columns": lambda: bf.price_columns(price_events, year.instruments, year.held),
        "backfill": lambda: bf.backfill(checks, columns),
    }
    short = {"columns": 10, "backfill": 10}
    times: dict[str, list[float]] = collections.defaultdict(list)
    outputs: dict[str, Any] = {}
    for _ in range(repeat):
        for name, fn in paths.items():
            for _ in range(short.get(name, 1)):
                begun = time.perf_counter()
                outputs[name] = fn()
                times[name].append(time.perf_counter() - begun)
    best = {name: min(t) for name, t in times.items()}
    medians = {name: statistics.median(t) for name, t in times.items()}
    per_event_s, records_s, live_s = best["per_event_prices"], best["stream_records"], best["live_stream"]
    pandas_s, fallback_s = best["pandas"], best["fallback"]
    columns_s, backfill_s = best["columns"], best["backfill"]
    stream, backfilled, pandas_failures = outputs["live_stream"], outputs["backfill"], outputs["pandas"]
    daily_s, daily_points = best["pandas_daily"], outputs["pandas_daily"]

    # The backfill and its fallback must raise what the per-event path raises.
    per_event_failures = collections.Counter(_key(r) for r in outputs["per_event_prices"])
    assert per_event_failures == collections.Counter(_key(r) for r in reference.failures)
    _same(backfilled, reference, "backfill")
    _same(outputs["fallback"], reference, "fallback")
    phases = ("_vs_curve", "_peers", "_moves", "_stale", "_blame", "_verdicts", "_results")
    with PhaseClock(phases) as clock:
        bf.backfill(checks, columns)
    ours = {
        (r.check_id, r.subject, r.vendor, columns.dates.index(r.value_date))
        for r in reference.failures
        if r.rule in ("non_positive", "off_tick", "vendor_divergence", "stale", "spike")
    }
    theirs = set(pandas_failures.itertuples(index=False, name=None))
    load_after = os.getloadavg()

    def rate(seconds: float) -> float:
        return points / seconds

    per_event_rate = rate(per_event_s)
    result: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
        },
        "year": {
            "start": START.isoformat(),
            "business_days": year.business_days,
            "instruments": len(year.instruments),
            "price_points": points,
            "dq_events": len(dq_events),
            "fault_rate": args.fault_rate,
            "failing_price_results": len(reference.failures),
            "rounds": repeat,
        },
        "best_seconds": best,
        "median_seconds": medians,
        "per_event_prices": {"seconds": per_event_s, "points_per_s": per_event_rate, "vs_per_event": 1.0},
        "per_event_stream_records": {
            "seconds": records_s,
            "points_per_s": rate(records_s),
            "events_per_s": len(dq_events) / records_s,
            "vs_per_event": per_event_s / records_s,
        },
        "live_stream": {
            "seconds": live_s,
            "points_per_s": rate(live_s),
            "events_per_s": len(dq_events) / live_s,
            "us_per_event": live_s / len(dq_events) * 1e6,
            "vs_per_event": per_event_s / live_s,
            "results": stream.results,
            "issue_changes": stream.changes,
            "code": "services.dq.checking.StreamChecks",
        },
        "pandas": {
            "seconds": pandas_s,
            "points_per_s": rate(pandas_s),
            "vs_per_event": per_event_s / pandas_s,
            "failures": len(theirs),
            "agree": len(ours & theirs),
            "per_event_only": len(ours - theirs),
            "pandas_only": len(theirs - ours),
        },
        "pandas_daily": {
            "days": DAILY_SAMPLE,
            "window_days": WINDOW,
            "seconds": daily_s,
            "seconds_per_day": daily_s / DAILY_SAMPLE,
            "points_judged": daily_points,
            "points_per_s": daily_points / daily_s,
            "us_per_point": daily_s / daily_points * 1e6,
            "vs_per_event": (daily_points / daily_s) / per_event_rate,
        },
        "backfill": {
            "columns_seconds": columns_s,
            "checks_seconds": backfill_s,
            "points_per_s": rate(backfill_s),
            "vs_per_event": per_event_s / backfill_s,
            "vs_pandas": pandas_s / backfill_s,
            "with_columns_points_per_s": rate(columns_s + backfill_s),
            "with_columns_vs_per_event": per_event_s / (columns_s + backfill_s),
            "aim_met": rate(backfill_s) > AIM,
            "rounds": backfilled.rounds,
            "divergent_days": backfilled.divergent,
            "scalar_curve_prices": backfilled.scalar_curve,
            "mean_abs_fallbacks": backfilled.mean_abs_fallbacks,
            "phases_seconds_one_run": {k.lstrip("_"): clock.spent[k] for k in phases},
        },
        "fallback": {
            "seconds": fallback_s,
            "points_per_s": rate(fallback_s),
            "vs_per_event": per_event_s / fallback_s,
        },
    }
    _print(result)
    return result


def _print(r: Mapping[str, Any]) -> None:
    rows = [
        ("per event: price checks (baseline)", r["per_event_prices"]),
        ("per event: dq's stream from records", r["per_event_stream_records"]),
        ("per event: live stream (parse + decode + check)", r["live_stream"]),
        ("pandas: the price checks as DataFrames", r["pandas"]),
        (f"pandas: a day at a time, over {WINDOW} days (x{DAILY_SAMPLE})", r["pandas_daily"]),
        ("backfill: checks from columns", {**r["backfill"], "seconds": r["backfill"]["checks_seconds"]}),
        (
            "backfill: columns from records + checks",
            {
                "seconds": r["backfill"]["columns_seconds"] + r["backfill"]["checks_seconds"],
                "points_per_s": r["backfill"]["with_columns_points_per_s"],
            },
        ),
        ("backfill's per-event fallback", r["fallback"]),
    ]
    print(f"{'path':50s} {'seconds':>9s} {'points/s':>12s} {'vs per event':>13s}")
    for name, row in rows:
        ratio = row["points_per_s"] / r["per_event_prices"]["points_per_s"]
        print(f"{name:50s} {row['seconds']:9.4f} {row['points_per_s']:12,.0f} {ratio:12.2f}x")
    b, p = r["backfill"], r["pandas"]
    print(
        f"backfill: {b['rounds']} rounds, {b['divergent_days']} divergent days, "
        f"{b['scalar_curve_prices']} bond prices by the rule, {b['mean_abs_fallbacks']} MAD-zero windows; "
        f"aim of {AIM:,} points/s {'met' if b['aim_met'] else 'NOT met'}"
    )
    print(
        "backfill phases (one run, ms): "
        + ", ".join(f"{k} {v * 1e3:.1f}" for k, v in b["phases_seconds_one_run"].items())
    )
    print(
        f"pandas failures: {p['failures']}, agreeing with per event {p['agree']}, "
        f"per event only {p['per_event_only']}, pandas only {p['pandas_only']}"
    )
    print(f"live stream: {r['live_stream']['us_per_event']:.1f} us an event; load average {r['machine']}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DAYS} business days, one repeat")
    parser.add_argument("--fault-rate", type=float, default=1.0, help="market's fault rate (1.0)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of every path (5; --quick: 1)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    parser.add_argument(
        "--json", type=Path, default=ROOT / "bench" / "dq_checks.json", help="where to write the figures"
    )
    args = parser.parse_args()
    result = main_section(args)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
