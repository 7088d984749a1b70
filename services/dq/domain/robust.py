"""Robust statistics for spike scores: median, median absolute deviation, and a z with fallbacks.

The scale of a series is 1.4826 x MAD (the standard deviation of normal data). A series whose
MAD is zero (at least half its values equal, a flat price) falls back to 1.2533 x the mean
absolute deviation from the median (also the standard deviation of normal data), and a series
with no spread at all to nothing; the score's scale is then never below the caller's floor
(min_scale), so a flat series followed by a small move is not an infinite z.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MAD_TO_SD = 1.4826
MEAN_ABS_TO_SD = 1.2533

# Which scale a score used (RobustScore.source).
FROM_MAD = 0.0
FROM_MEAN_ABS = 1.0
FROM_FLOOR = 2.0


@dataclass(frozen=True, slots=True)
class RobustScore:
    """value's distance from the history's median in units of scale.

    median, mad: of the history; scale: the one used (after fallbacks and the floor, in the
    unit of value); source: FROM_MAD, FROM_MEAN_ABS or FROM_FLOOR.
    """

    z: float
    median: float
    mad: float
    scale: float
    source: float


def median_absolute_deviation(values: Sequence[float], center: float) -> float:
    return statistics.median(abs(v - center) for v in values)


def score(value: float, history: Sequence[float], min_scale: float, factor: float = 1.0) -> RobustScore:
    """The robust z of `value` against `history`, both divided by `factor` first (the history is
    stored divided already: the caller passes the history in its own unit and `value` raw).

    scale = max(factor x (1.4826 MAD, else 1.2533 mean |dev|), min_scale).
    """
    if not history:
        raise ValueError("history is empty")
    center = statistics.median(history)
    mad = median_absolute_deviation(history, center)
    spread, source = MAD_TO_SD * mad, FROM_MAD
    if spread == 0.0:
        spread, source = MEAN_ABS_TO_SD * statistics.fmean(abs(v - center) for v in history), FROM_MEAN_ABS
    scale = spread * factor
    if scale < min_scale:
        scale, source = min_scale, FROM_FLOOR
    return RobustScore(
        z=(value - center * factor) / scale, median=center, mad=mad, scale=scale, source=source
    )
