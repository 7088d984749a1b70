"""Loading FRED's observations: live through fredapi with a key, otherwise the snapshot shipped in
the package; and the macro history the simulation replays, built from them.

A missing key is the normal offline case and is silent. A key that does not
work, or a FRED that cannot be reached, must never stop the simulation: the
snapshot is used instead and a WARNING says which series failed and why.
Sources are never mixed: one failed series means every series comes from the
snapshot, so the curve, FX and macro rows always share one provenance.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import pickle
import threading
import zlib
from collections.abc import Collection, Mapping
from importlib import resources
from types import MappingProxyType

from services.market.sim.macro import MacroHistory, build_history
from services.market.sim.series import SERIES, SeriesSet, parse_csv, parse_observations

log = logging.getLogger(__name__)

DEFAULT_START = dt.date(1999, 1, 1)
# fredapi calls urlopen without a timeout; a firewalled FRED would otherwise hang start-up for ever.
DEFAULT_TIMEOUT_S = 60.0


@functools.cache
def load_snapshot() -> SeriesSet:
    """The snapshot in services/market/data/fred/, read through importlib.resources (works from a wheel).

    Cached: the data is immutable and every simulation run needs it.
    """
    folder = resources.files("services.market").joinpath("data").joinpath("fred")
    observations: dict[str, Mapping[dt.date, float | None]] = {}
    texts: dict[str, Mapping[dt.date, str]] = {}
    for series_id in SERIES:
        content = folder.joinpath(f"{series_id}.csv").read_text(encoding="utf-8")
        values, text = parse_csv(series_id, content)
        observations[series_id] = MappingProxyType(values)
        texts[series_id] = MappingProxyType(text)
    return SeriesSet(
        observations=MappingProxyType(observations),
        source="snapshot",
        notes=("FRED snapshot shipped in the package (services/market/data/fred)",),
        text=MappingProxyType(texts),
    )


def pack_series(series: SeriesSet, *, text_of: Collection[str] | None = None) -> bytes:
    """The series as compressed bytes, for a process that needs them again only much later: market
    builds the synthetic extension from them when the real days run out, years into a run. The
    snapshot's series are about 12 MiB of objects in memory and 0.5 MiB packed.

    text_of: the series whose published text is kept (None: every one's); the text is most of the
    objects' memory, and a reader of exact decimals needs only its own series'."""
    plain = (
        {series_id: dict(values) for series_id, values in series.observations.items()},
        series.source,
        series.notes,
        {
            series_id: dict(text)
            for series_id, text in series.text.items()
            if text_of is None or series_id in text_of
        },
    )
    return zlib.compress(pickle.dumps(plain, protocol=pickle.HIGHEST_PROTOCOL))


def unpack_series(packed: bytes) -> SeriesSet:
    """The series pack_series packed: the same observations and text, in the same order (pickle
    keeps a dict's order and a float's every bit), source and notes."""
    # Bytes this process packed itself, never read from outside, so unpickling them is safe.
    observations, source, notes, text = pickle.loads(zlib.decompress(packed))
    return SeriesSet(
        observations=MappingProxyType(
            {key: MappingProxyType(values) for key, values in observations.items()}
        ),
        source=source,
        notes=notes,
        text=MappingProxyType({key: MappingProxyType(values) for key, values in text.items()}),
    )


class _SeriesFailed(Exception):
    def __init__(self, series_id: str, error: BaseException) -> None:
        super().__init__(f"{series_id}: {type(error).__name__}: {error}")
        self.series_id = series_id
        self.error = error


def _fetch_all(api_key: str, root_url: str | None, start: dt.date) -> SeriesSet:
    from fredapi import Fred  # the market extra; imported only on the live path

    class DatesByStrptime(Fred):  # type: ignore[misc]  # fredapi has no type hints
        """fredapi parses each observation's date with pandas.to_datetime, one call per date: most
        of a live start's CPU (about 8,000 dates per daily series since 1999). strptime gives the
        same datetime (fredapi's own format) about ten times faster."""

        def _parse(self, date_str: str, format: str = "%Y-%m-%d") -> dt.datetime:
            return dt.datetime.strptime(date_str, format)

    fred = DatesByStrptime(api_key=api_key)
    if root_url:
        fred.root_url = root_url.rstrip("/")
    observations: dict[str, Mapping[dt.date, float | None]] = {}
    texts: dict[str, Mapping[dt.date, str]] = {}
    for series_id in SERIES:
        try:
            data = fred.get_series(series_id, observation_start=start.isoformat())
            values, text = parse_observations(series_id, data)
        except Exception as error:
            raise _SeriesFailed(series_id, error) from error
        observations[series_id] = MappingProxyType(values)
        texts[series_id] = MappingProxyType(text)
    return SeriesSet(
        observations=MappingProxyType(observations),
        source="fred",
        notes=(f"live FRED ({fred.root_url}), observations from {start.isoformat()}",),
        text=MappingProxyType(texts),
    )


def load_series(
    api_key: str | None,
    *,
    root_url: str | None = None,
    start: dt.date = DEFAULT_START,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> SeriesSet:
    """Every series in SERIES, from live FRED when a key is given, else from the snapshot.

    Any failure of the live path (bad key, network, malformed XML, an empty
    series, a timeout) falls back to the snapshot with a WARNING; it never raises.
    """
    if not api_key:
        return load_snapshot()
    outcome: list[SeriesSet | BaseException] = []

    def run() -> None:
        try:
            outcome.append(_fetch_all(api_key, root_url, start))
        except BaseException as error:  # handed to the caller's thread, which decides
            outcome.append(error)

    # A daemon thread, because fredapi's urlopen has no timeout and cannot be cancelled.
    worker = threading.Thread(target=run, name="fred-fetch", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if not outcome:
        series_id, reason = "(all)", f"no answer from FRED within {timeout_s:g} s"
    elif isinstance(outcome[0], SeriesSet):
        return outcome[0]
    elif isinstance(outcome[0], _SeriesFailed):
        series_id, reason = outcome[0].series_id, f"{type(outcome[0].error).__name__}: {outcome[0].error}"
    else:
        series_id, reason = "(all)", f"{type(outcome[0]).__name__}: {outcome[0]}"
    message = (
        f"FRED series {series_id} could not be loaded ({reason}); "
        "falling back to the shipped FRED snapshot for every series"
    )
    log.warning(message)
    return load_snapshot().with_note(message)


def load_macro(
    start: dt.date,
    end: dt.date | None = None,
    *,
    api_key: str | None = None,
    root_url: str | None = None,
) -> MacroHistory:
    """load_series (live FRED with a key, else the snapshot) then build_history."""
    return build_history(load_series(api_key, root_url=root_url), start, end)
