"""The price checks, evaluated event by event in market's order of a day.

A day is: market.regime (regime), every primary price.tick (primary), every vendor price.vendor
(vendor), ..., clock.day_end (day_end). By the first vendor quote every primary price of the day
is known, so the peers' moves are fixed then: an instrument's peers are the other instruments of
its asset class and currency, and its peers' move on a day is the median of their primary log
returns (each from its previous business day's price). Every return dq scores is net of that
median, so a day on which a whole market falls is not a spike for any one name.

primary(): non-positive, off-tick and, for bonds, against the curve-implied price.
vendor(): the quote's own non-positive and off-tick checks; against the primary of the same
instrument (vendor_divergence); stale; spike (for the vendor and, the first time the instrument's
primary is met that day, for the primary). When the two vendors diverge, dq blames:
  1. a vendor whose price already failed a critical check of its own (the primary's curve check);
  2. else the one vendor that is stale (repeats while the other vendor and the peers moved);
  3. else the one vendor whose return is a spike (its robust z past the spike check's);
  4. else the vendor whose |z| is at least blame_min_z and blame_ratio times the other's;
  5. else dq cannot tell: both vendors' prices are quarantined for the day, and both
     divergence results say so.
A quarantined price is not a good price: returns keep being measured from the last good one.
day_end(): primaries no vendor quoted are scored alone; held instruments without a primary price
today are missing; the day is closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.common.market_events import Instrument, PriceQuote, RegimeState
from services.dq.domain import price_rules as rules
from services.dq.domain.config import Check, CheckSet
from services.dq.domain.curve import CreditSpread
from services.dq.domain.peers import peer_moves
from services.dq.domain.price_rules import Evidence, attributes
from services.dq.domain.price_series import Move, Series, measure, quote_from_json, quote_json
from services.dq.domain.results import PRIMARY, CheckResult, Family

# Spike scores are in units of a regime of this annual equity volatility (about the long-run VIX).
REFERENCE_VOL = 0.16
_REGIMES = ("calm", "tightening", "easing", "stress", "crisis")
P = Family.PRICE


@dataclass(slots=True)
class _Primary:
    quote: PriceQuote
    event_id: str
    rejected: bool


class PriceChecks:
    """Per-event price checks over bounded per-instrument state (to_json / restore)."""

    def __init__(self, checks: CheckSet, instruments: Iterable[Instrument]) -> None:
        self._checks = checks
        self._selected: dict[tuple[Any, ...], Check | None] = {}
        self._instruments: dict[str, Instrument] = {}
        self.set_instruments(instruments)
        self._credit = {
            c.check_id: CreditSpread(
                {r: c.threshold(f"spread_multiplier_{r}") for r in _REGIMES},
                c.threshold("spread_adjustment_per_day"),
            )
            for c in checks.of_rule(P, "vs_curve")
        }
        self._series: dict[tuple[str, str], Series] = {}
        self._peer_index: dict[str, float] = {}
        self._day = -1
        self._date: dt.date | None = None
        self._regime_day = -1
        self._regime_event = ""
        self._vol_annual: float | None = None
        self._curve: dict[str, float] = {}
        self._today: dict[str, _Primary] = {}
        self._finalized = False
        self._peer_median: dict[str, float | None] = {}
        self._peer_moved: dict[str, float | None] = {}
        self._assessed: dict[str, tuple[float | None, bool]] = {}

    def set_instruments(self, instruments: Iterable[Instrument]) -> None:
        """Reference data: instruments added or changed (their peers follow their attributes)."""
        self._instruments.update({i.instrument_id: i for i in instruments})
        self._selected.clear()  # an instrument's attributes choose its checks

    # ------------------------------------------------------------ events

    def regime(self, event_id: str, state: RegimeState) -> None:
        self._start(state.date)
        if self._regime_day != self._day:
            for credit in self._credit.values():
                credit.observe(state.regime)
            self._regime_day = self._day
        self._regime_event = event_id
        self._vol_annual = state.equity_vol_annual
        self._curve = dict(state.curve_pct)

    def primary(self, event_id: str, quote: PriceQuote) -> list[CheckResult]:
        self._start(quote.price_date)
        instrument = self._instruments.get(quote.instrument_id)
        results = self._quote_checks(event_id, quote, instrument)
        check = self._select("vs_curve", instrument, quote)
        if check is not None and instrument is not None and self._curve and self._regime_day == self._day:
            credit = self._credit[check.check_id]
            result = rules.vs_curve(
                check,
                quote,
                instrument,
                self._curve,
                credit.spread_pct(instrument.spread_bp),
                event_id,
                self._regime_event,
            )
            if result is not None:
                results.append(result)
        rejected = any(r.quarantine for r in results)
        self._today[quote.instrument_id] = _Primary(quote, event_id, rejected)
        return results

    def vendor(self, event_id: str, quote: PriceQuote) -> list[CheckResult]:
        self._start(quote.price_date)
        self._finalize()
        iid = quote.instrument_id
        instrument = self._instruments.get(iid)
        results = self._quote_checks(event_id, quote, instrument)
        own_rejected = any(r.quarantine for r in results)
        primary = self._today.get(iid)
        other = primary.quote if primary is not None else None
        first = primary is not None and iid not in self._assessed
        mine_move = self._move(quote, instrument)
        theirs: Evidence | None = None
        if primary is not None and first:
            theirs_move = self._move(primary.quote, instrument)
            mine = self._evidence(quote, instrument, mine_move, other, theirs_move.z if theirs_move else None)
            mine_z = mine_move.z if mine_move is not None else None
            theirs = self._evidence(primary.quote, instrument, theirs_move, quote, mine_z)
        elif primary is not None:  # judged already, with another vendor's quote
            judged_z, was_stale = self._assessed[iid]
            theirs = Evidence(None, None, 0, was_stale, None, None, judged_z)
            mine = self._evidence(quote, instrument, mine_move, other, judged_z)
        else:
            mine = self._evidence(quote, instrument, mine_move, None, None)
        blamed: frozenset[str] = frozenset()
        check = self._select("vendor_divergence", instrument, quote)
        tick = instrument.tick_size if instrument is not None else Decimal(0)
        if primary is not None and theirs is not None and check is not None:
            verdict = "within tolerance"
            if rules.diverges(check, quote.price, primary.quote.price, tick):
                blamed, verdict = rules.blame(
                    check, quote.vendor, own_rejected, primary.rejected, mine, theirs
                )
            caused = (event_id, primary.event_id)
            results.append(
                rules.divergence(check, quote, primary.quote, tick, quote.vendor in blamed, verdict, caused)
            )
            if first:
                back = (primary.event_id, event_id)
                results.append(
                    rules.divergence(check, primary.quote, quote, tick, PRIMARY in blamed, verdict, back)
                )
        results += self._judge(event_id, quote, instrument, mine, other)
        if primary is not None and first and theirs is not None:
            results += self._judge(primary.event_id, primary.quote, instrument, theirs, quote)
            self._settle(primary.quote, instrument, theirs, not primary.rejected and PRIMARY not in blamed)
            self._assessed[iid] = (theirs.z_any, theirs.stale)
        self._settle(quote, instrument, mine, not own_rejected and quote.vendor not in blamed)
        return results

    def day_end(self, date: dt.date, held: Iterable[str]) -> list[CheckResult]:
        """Primaries no vendor quoted, then each held instrument's primary price today (missing)."""
        self._start(date)
        self._finalize()
        results: list[CheckResult] = []
        for iid, primary in sorted(self._today.items()):
            if iid in self._assessed:
                continue
            instrument = self._instruments.get(iid)
            move = self._move(primary.quote, instrument)
            evidence = self._evidence(primary.quote, instrument, move, None, None)
            results += self._judge(primary.event_id, primary.quote, instrument, evidence, None)
            self._settle(primary.quote, instrument, evidence, not primary.rejected)
            self._assessed[iid] = (evidence.z_any, evidence.stale)
        for iid in sorted(set(held)):
            instrument = self._instruments.get(iid)
            check = self._select("missing", instrument, None)
            if check is None:
                continue
            series = self._series.get((iid, PRIMARY), Series())
            priced = self._today.get(iid)
            if priced is not None:
                days = 0
            else:
                days = self._day - series.previous_day if series.previous_day >= 0 else 1
            caused = (priced.event_id,) if priced is not None else ()
            results.append(rules.missing(check, iid, date, days, series.last_good, caused))
        return results

    def vet(self, quote: PriceQuote, event_id: str = "vet") -> list[CheckResult]:
        """The results `quote` would get as its vendor's next price, on a copy of this state: the
        same rules as the live checks, nothing here changes. A vendor quote is judged against the
        primary of its day where one is known; a primary quote on its own (as at day end). On a
        day after the last one seen, the last regime (curve, volatility) stands in for the day's.
        ValueError for a price dated before the last day seen.
        """
        scratch = PriceChecks(self._checks, self._instruments.values())
        scratch.restore(self.to_json())
        scratch._start(quote.price_date)
        if scratch._regime_day >= 0:
            scratch._regime_day = scratch._day
        if quote.vendor != PRIMARY:
            return scratch.vendor(event_id, quote)
        results = scratch.primary(event_id, quote)
        later = scratch.day_end(quote.price_date, ())
        return results + [r for r in later if r.subject == quote.instrument_id]

    # ------------------------------------------------------------ the day

    def _start(self, date: dt.date) -> None:
        if self._date is not None and date < self._date:
            raise ValueError(f"price date {date} is before the day being checked, {self._date}")
        if self._date == date:
            return
        self._day += 1
        self._date = date
        self._today = {}
        self._finalized = False
        self._peer_median = {}
        self._peer_moved = {}
        self._assessed = {}

    def _finalize(self) -> None:
        """Fixes the peers' move of the day for every instrument (once a day)."""
        if self._finalized:
            return
        self._finalized = True
        today = {iid: p.quote.price for iid, p in self._today.items() if not p.rejected}
        yesterday = {
            iid: series.previous
            for (iid, vendor), series in self._series.items()
            if vendor == PRIMARY and series.previous is not None and series.previous_day == self._day - 1
        }
        for iid, move in peer_moves(self._instruments.values(), today, yesterday).items():
            self._peer_median[iid] = move.median
            self._peer_moved[iid] = move.moved
            self._peer_index[iid] = self._peer_index.get(iid, 0.0) + (move.median or 0.0)

    # ------------------------------------------------------------ evidence and verdicts

    def _select(self, rule: str, instrument: Instrument | None, quote: PriceQuote | None) -> Check | None:
        # Asked for every price: each answer is kept per instrument (set_instruments forgets them
        # when the instruments change), without building the subject's attributes again.
        currency = quote.currency if quote is not None else ""
        key = (rule, instrument.instrument_id) if instrument is not None else (rule, None, currency)
        try:
            return self._selected[key]
        except KeyError:
            chosen = self._selected[key] = self._checks.select(P, rule, attributes(instrument, currency))
            return chosen

    def _factor(self, check: Check | None) -> float:
        if check is None or not check.whole("regime_scaling") or not self._vol_annual:
            return 1.0
        return self._vol_annual / REFERENCE_VOL

    def _move(self, quote: PriceQuote, instrument: Instrument | None) -> Move | None:
        spike = self._select("spike", instrument, quote)
        if spike is None:
            return None
        return measure(
            self._series.get((quote.instrument_id, quote.vendor), Series()),
            quote.price,
            self._day,
            self._peer_index.get(quote.instrument_id, 0.0),
            self._factor(spike),
            spike.whole("min_history"),
            spike.threshold("min_scale"),
        )

    def _evidence(
        self,
        quote: PriceQuote,
        instrument: Instrument | None,
        move: Move | None,
        other: PriceQuote | None,
        other_z: float | None,
    ) -> Evidence:
        """What is known of `quote` today. It is stale only against a credible other vendor: one
        whose yesterday's price was good and whose move today is ordinary (|z| <= max_other_z)."""
        iid = quote.instrument_id
        series = self._series.get((iid, quote.vendor), Series())
        spike = self._select("spike", instrument, quote)
        spiking = None
        if move is not None and move.score is not None and spike is not None:
            spiking = abs(move.score.z) > spike.threshold("z")
        other_move = None
        ticks_moved = Decimal(0)
        if other is not None:
            theirs = self._series.get((iid, other.vendor))
            if theirs is not None and theirs.previous is not None and theirs.good_day == theirs.previous_day:
                other_move = theirs.move(other.price, self._day)
                tick = instrument.tick_size if instrument is not None else Decimal(0)
                ticks_moved = abs(other.price - theirs.previous) / tick if tick else Decimal("Infinity")
        peers = self._peer_moved.get(iid)
        days = series.stale_days(quote.price, self._day)
        check = self._select("stale", instrument, quote)
        is_stale = (
            check is not None
            and days >= check.whole("days")
            and other_move is not None
            and not (other_z is not None and abs(other_z) > check.threshold("max_other_z"))
            and abs(other_move) >= check.threshold("min_other_move")
            and ticks_moved >= check.decimal("min_other_ticks")
            and (peers is None or peers >= check.threshold("peer_moved_share"))
        )
        return Evidence(move, spiking, days, is_stale, other_move, peers)

    def _judge(
        self,
        event_id: str,
        quote: PriceQuote,
        instrument: Instrument | None,
        evidence: Evidence,
        other: PriceQuote | None,
    ) -> list[CheckResult]:
        out: list[CheckResult] = []
        stale = self._select("stale", instrument, quote)
        if stale is not None:
            out.append(rules.stale(stale, quote, evidence, other, event_id))
        spike = self._select("spike", instrument, quote)
        if spike is not None:
            series = self._series.get((quote.instrument_id, quote.vendor), Series())
            median = self._peer_median.get(quote.instrument_id)
            result = rules.spike(
                spike, quote, evidence, series.last_good, median, self._factor(spike), event_id
            )
            if result is not None:
                out.append(result)
        return out

    def _quote_checks(
        self, event_id: str, quote: PriceQuote, instrument: Instrument | None
    ) -> list[CheckResult]:
        out: list[CheckResult] = []
        check = self._select("non_positive", instrument, quote)
        if check is not None:
            out.append(rules.non_positive(check, quote, event_id))
        check = self._select("off_tick", instrument, quote)
        if check is not None and instrument is not None and instrument.tick_size > 0:
            out.append(rules.off_tick(check, quote, instrument.tick_size, event_id))
        return out

    def _settle(
        self, quote: PriceQuote, instrument: Instrument | None, evidence: Evidence, good: bool
    ) -> None:
        """Records the published price, and takes it as the last good one unless quarantined."""
        key = (quote.instrument_id, quote.vendor)
        series = self._series.setdefault(key, Series())
        if good and quote.price > 0:
            spike = self._select("spike", instrument, quote)
            window = spike.whole("window") if spike is not None else 0
            standardised = evidence.move.standardised if evidence.move is not None else None
            series.accept(
                quote.price, self._day, self._peer_index.get(quote.instrument_id, 0.0), standardised, window
            )
        series.publish(quote.price, self._day)

    # ------------------------------------------------------------ state

    def last_good(self, instrument_id: str, vendor: str = PRIMARY) -> Decimal | None:
        series = self._series.get((instrument_id, vendor))
        return series.last_good if series is not None else None

    def latest(self) -> list[PriceQuote]:
        """Each instrument's price from each vendor on the last day seen, as published (CheckPrices
        with no prices vets these)."""
        if self._date is None:
            return []
        quotes = []
        for (iid, vendor), series in sorted(self._series.items()):
            instrument = self._instruments.get(iid)
            if series.previous is None or series.previous_day != self._day or instrument is None:
                continue
            quotes.append(PriceQuote(iid, series.previous, instrument.currency, vendor, self._date))
        return quotes

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self._day,
            "date": self._date.isoformat() if self._date is not None else None,
            "regime_day": self._regime_day,
            "regime_event": self._regime_event,
            "vol_annual": self._vol_annual,
            "curve": dict(self._curve),
            "credit": {check_id: credit.multiplier for check_id, credit in self._credit.items()},
            "series": {f"{i}|{v}": s.to_json() for (i, v), s in sorted(self._series.items())},
            "peer_index": dict(sorted(self._peer_index.items())),
            "today": {
                iid: {"quote": quote_json(p.quote), "event_id": p.event_id, "rejected": p.rejected}
                for iid, p in sorted(self._today.items())
            },
            "finalized": self._finalized,
            "peer_median": dict(sorted(self._peer_median.items())),
            "peer_moved": dict(sorted(self._peer_moved.items())),
            "assessed": {iid: [z, stale] for iid, (z, stale) in sorted(self._assessed.items())},
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        self._day = int(data["day"])
        self._date = dt.date.fromisoformat(data["date"]) if data["date"] is not None else None
        self._regime_day = int(data["regime_day"])
        self._regime_event = str(data["regime_event"])
        self._vol_annual = data["vol_annual"]
        self._curve = {k: float(v) for k, v in data["curve"].items()}
        for check_id, multiplier in data["credit"].items():
            if check_id in self._credit:
                self._credit[check_id].multiplier = multiplier
        self._series = {}
        for key, value in data["series"].items():
            instrument_id, vendor = key.split("|", 1)
            self._series[(instrument_id, vendor)] = Series.restore(value)
        self._peer_index = {k: float(v) for k, v in data["peer_index"].items()}
        self._today = {
            iid: _Primary(quote_from_json(p["quote"]), p["event_id"], bool(p["rejected"]))
            for iid, p in data["today"].items()
        }
        self._finalized = bool(data["finalized"])
        self._peer_median = dict(data["peer_median"])
        self._peer_moved = dict(data["peer_moved"])
        self._assessed = {iid: (v[0], bool(v[1])) for iid, v in data["assessed"].items()}
