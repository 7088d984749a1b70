"""Return attribution: Brinson per segment for one period, and the periods linked.

One period, with portfolio and benchmark weights w_p, w_b and returns r_p, r_b per segment, and
R_b = sum(w_b r_b) the benchmark's return:

- Brinson-Fachler (default): allocation (w_p - w_b)(r_b - R_b); Brinson-Hood-Beebower:
  allocation (w_p - w_b) r_b. Both: selection w_b (r_p - r_b), interaction (w_p - w_b)(r_p - r_b);
  or, with the interaction folded into selection, selection w_p (r_p - r_b) and no interaction.
  With each side's weights summing to one, the effects add up to R_p - R_b exactly.

Linked over periods (the arithmetic effects of each period scaled so they add up to the linked active
return R_p - R_b, where 1 + R = product of (1 + R_t)):

- Carino (default): each period's effects times k_t / k, with k = (ln(1 + R_p) - ln(1 + R_b)) /
  (R_p - R_b) and k_t the same of the period (1 / (1 + R) where the two returns are equal).
- Menchero: times M + alpha_t, with M = (R_p - R_b) / (n ((1 + R_p)^(1/n) - (1 + R_b)^(1/n))) and
  alpha_t = (R_p - R_b - M sum a) a_t / sum a^2, a_t the period's active return.
- GRAP: times the portfolio's growth before the period and the benchmark's after it.

Decimal throughout (its ln and powers at 40 digits), so the sums hold to far below a basis point.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)
ONE = Decimal(1)
WEIGHT_SUM_TOLERANCE = Decimal("1e-6")
# Linking works at 40 digits (its logarithms and powers).
LINKING_CONTEXT = decimal.Context(prec=40)


class AttributionError(ValueError):
    """Inputs that make no attribution, in words a person can act on."""


class Method(StrEnum):
    BRINSON_FACHLER = "bf"
    BRINSON_HOOD_BEEBOWER = "bhb"


class Linking(StrEnum):
    CARINO = "carino"
    MENCHERO = "menchero"
    GRAP = "grap"


class Interaction(StrEnum):
    SEPARATE = "separate"
    IN_SELECTION = "in-selection"


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    portfolio_weight: Decimal
    portfolio_return: Decimal
    benchmark_weight: Decimal
    benchmark_return: Decimal


@dataclass(frozen=True, slots=True)
class Effects:
    """A segment's effects. Currency attribution (period_attribution.attribute_currencies) adds the
    currency's own two: its allocation, and the cross term of local and currency returns."""

    segment: str
    allocation: Decimal
    selection: Decimal
    interaction: Decimal
    currency: Decimal = ZERO
    cross: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.allocation + self.selection + self.interaction + self.currency + self.cross


@dataclass(frozen=True, slots=True)
class Linked:
    """The effects of a span (a period, or periods linked) and the two returns they explain."""

    portfolio_return: Decimal
    benchmark_return: Decimal
    segments: tuple[Effects, ...]

    @property
    def active_return(self) -> Decimal:
        return self.portfolio_return - self.benchmark_return


@dataclass(frozen=True, slots=True)
class PeriodAttribution(Linked):
    period: str = ""


def attribute_period(
    period: str,
    segments: Sequence[Segment],
    method: Method = Method.BRINSON_FACHLER,
    interaction: Interaction = Interaction.SEPARATE,
) -> PeriodAttribution:
    if not segments:
        raise AttributionError(f"period {period!r} has no segments")
    names = [s.name for s in segments]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise AttributionError(f"period {period!r} names segment {twice[0]!r} twice")
    for side, total in (
        ("portfolio", sum((s.portfolio_weight for s in segments), ZERO)),
        ("benchmark", sum((s.benchmark_weight for s in segments), ZERO)),
    ):
        if abs(total - ONE) > WEIGHT_SUM_TOLERANCE:
            raise AttributionError(f"period {period!r}: the {side} weights sum to {total}, not 1")
    portfolio = sum((s.portfolio_weight * s.portfolio_return for s in segments), ZERO)
    benchmark = sum((s.benchmark_weight * s.benchmark_return for s in segments), ZERO)
    effects = []
    for s in segments:
        active_weight = s.portfolio_weight - s.benchmark_weight
        relative = s.benchmark_return - benchmark if method is Method.BRINSON_FACHLER else s.benchmark_return
        if interaction is Interaction.SEPARATE:
            selection = s.benchmark_weight * (s.portfolio_return - s.benchmark_return)
            joint = active_weight * (s.portfolio_return - s.benchmark_return)
        else:
            selection, joint = s.portfolio_weight * (s.portfolio_return - s.benchmark_return), ZERO
        effects.append(Effects(s.name, active_weight * relative, selection, joint))
    return PeriodAttribution(portfolio, benchmark, tuple(effects), period=period)


def link(periods: Sequence[PeriodAttribution], linking: Linking = Linking.CARINO) -> Linked:
    """The periods' effects linked into effects of the whole span that add up to its active return.
    A segment missing from a period counts as zero effects there."""
    if not periods:
        raise AttributionError("there is no period to link")
    with decimal.localcontext(LINKING_CONTEXT):
        portfolio = _growth(p.portfolio_return for p in periods) - ONE
        benchmark = _growth(p.benchmark_return for p in periods) - ONE
        scales = _scales(periods, portfolio, benchmark, linking)
        order: list[str] = []
        for p in periods:
            order.extend(e.segment for e in p.segments if e.segment not in order)
        totals: dict[str, list[Decimal]] = {name: [ZERO] * 5 for name in order}
        for p, scale in zip(periods, scales, strict=True):
            for e in p.segments:
                total = totals[e.segment]
                for i, effect in enumerate((e.allocation, e.selection, e.interaction, e.currency, e.cross)):
                    total[i] += effect * scale
    return Linked(portfolio, benchmark, tuple(Effects(name, *totals[name]) for name in order))


def _growth(returns: Iterable[Decimal]) -> Decimal:
    growth = ONE
    for r in returns:
        growth *= ONE + r
    return growth


NEARLY_EQUAL = Decimal("1e-20")


def log_ratio_scale(portfolio: Decimal, benchmark: Decimal) -> Decimal:
    """Carino's k: (ln(1 + R_p) - ln(1 + R_b)) / (R_p - R_b), its limit 1 / (1 + R) where the two are
    equal. Call it inside localcontext(LINKING_CONTEXT), as link does."""
    if abs(portfolio - benchmark) < NEARLY_EQUAL:
        # Equal, or equal but for the last digits of a division (a running product's ratio): the
        # logarithms' difference would be all rounding there. The limit at the midpoint is exact to
        # the square of the gap, far below any figure reported.
        return ONE / (ONE + (portfolio + benchmark) / 2)
    return ((ONE + portfolio).ln() - (ONE + benchmark).ln()) / (portfolio - benchmark)


def _scales(
    periods: Sequence[PeriodAttribution], portfolio: Decimal, benchmark: Decimal, linking: Linking
) -> list[Decimal]:
    for p in periods:
        if p.portfolio_return <= -ONE or p.benchmark_return <= -ONE:
            raise AttributionError(f"period {p.period!r} loses everything (a return of -100 % or less)")
    if linking is Linking.CARINO:
        k = log_ratio_scale(portfolio, benchmark)
        return [log_ratio_scale(p.portfolio_return, p.benchmark_return) / k for p in periods]
    if linking is Linking.MENCHERO:
        n = Decimal(len(periods))
        if portfolio == benchmark:
            m = (ONE + portfolio) ** ((n - ONE) / n)
        else:
            m = (portfolio - benchmark) / (
                n * ((ONE + portfolio) ** (ONE / n) - (ONE + benchmark) ** (ONE / n))
            )
        active = [p.active_return for p in periods]
        squares = sum((a * a for a in active), ZERO)
        if squares == 0:
            return [m for _ in periods]
        correction = (portfolio - benchmark - m * sum(active, ZERO)) / squares
        return [m + correction * a for a in active]
    scales = []
    for t in range(len(periods)):
        before = _growth(p.portfolio_return for p in periods[:t])
        after = _growth(p.benchmark_return for p in periods[t + 1 :])
        scales.append(before * after)
    return scales


def as_json(periods: Sequence[PeriodAttribution], linked: Linked) -> Mapping[str, object]:
    """The shape `opsuite perf attribution --json` prints (fractions as numbers)."""

    def effects(items: Sequence[Effects]) -> list[dict[str, object]]:
        return [
            {
                "segment": e.segment,
                "allocation": float(e.allocation),
                "selection": float(e.selection),
                "interaction": float(e.interaction),
            }
            for e in items
        ]

    return {
        "periods": [
            {
                "period": p.period,
                "portfolio_return": float(p.portfolio_return),
                "benchmark_return": float(p.benchmark_return),
                "segments": effects(p.segments),
            }
            for p in periods
        ],
        "linked": {
            "portfolio_return": float(linked.portfolio_return),
            "benchmark_return": float(linked.benchmark_return),
            "active_return": float(linked.active_return),
            "segments": effects(linked.segments),
        },
    }
