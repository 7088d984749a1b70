"""FRED observations as the simulation reads them: the series it replays, a set of them, and how
their published text is parsed. Pure: loading them (the shipped snapshot, live FRED) is
services/market/fred.py."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SERIES: tuple[str, ...] = (
    "DGS3MO",
    "DGS2",
    "DGS5",
    "DGS10",
    "DGS30",
    "DFF",
    "T10YIE",
    "DEXUSEU",
    "DEXUSUK",
    "DEXJPUS",
    "DCOILWTICO",
    "CPIAUCSL",
    "UNRATE",
)

MISSING = "."  # FRED's marker for a date without a value (holidays, discontinued series)


@dataclass(frozen=True)
class SeriesSet:
    """Observations of every series in SERIES.

    observations: series id -> date -> value, None where FRED has no value.
    source: "snapshot" (the package data) or "fred" (fetched live).
    notes: what happened while loading (e.g. the reason live FRED was not used).
    text: series id -> date -> the figure as published, for exact decimals (FX).
        From the snapshot this is the CSV text ("1.1760"); from live FRED,
        fredapi has already parsed to float, so it is the shortest text that
        round-trips the float ("1.176"): the same number, without trailing zeros.
    """

    observations: Mapping[str, Mapping[dt.date, float | None]]
    source: str
    notes: tuple[str, ...] = ()
    text: Mapping[str, Mapping[dt.date, str]] = field(default_factory=dict)

    def with_note(self, note: str) -> SeriesSet:
        return SeriesSet(self.observations, self.source, (*self.notes, note), self.text)


def fingerprint(series: SeriesSet) -> str:
    """A hash of every observation (SHA-256, hex): what a run was simulated from, so a restart over
    other data (FRED revised or extended, another snapshot) is recognised. Values, not their text,
    are hashed: the snapshot's "1.1760" and live FRED's "1.176" are the same data."""
    digest = hashlib.sha256()
    for series_id in sorted(series.observations):
        digest.update(f"#{series_id}\n".encode())
        observations = series.observations[series_id]
        digest.update(
            "".join(
                f"{day.isoformat()},{MISSING if value is None else repr(value)}\n"
                for day, value in sorted(observations.items())
            ).encode()
        )
    return digest.hexdigest()


def parse_csv(series_id: str, content: str) -> tuple[dict[dt.date, float | None], dict[dt.date, str]]:
    values: dict[dt.date, float | None] = {}
    texts: dict[dt.date, str] = {}
    reader = csv.reader(io.StringIO(content))
    header = next(reader)
    if len(header) != 2 or header[1] != series_id:
        raise ValueError(f"{series_id}.csv: expected header DATE,{series_id}, found {','.join(header)}")
    for row in reader:
        if not row:
            continue
        day = dt.date.fromisoformat(row[0])
        raw = row[1].strip()
        if raw == MISSING or raw == "":
            values[day] = None
        else:
            values[day] = float(raw)
            texts[day] = raw
    return values, texts


def parse_observations(series_id: str, data: Any) -> tuple[dict[dt.date, float | None], dict[dt.date, str]]:
    values: dict[dt.date, float | None] = {}
    texts: dict[dt.date, str] = {}
    for stamp, value in data.items():
        day = stamp.date() if hasattr(stamp, "date") else dt.date.fromisoformat(str(stamp)[:10])
        number = float(value)
        if math.isnan(number):
            values[day] = None
        else:
            values[day] = number
            texts[day] = repr(number)
    if not texts:
        raise ValueError(f"FRED returned no observations for {series_id}")
    return values, texts
