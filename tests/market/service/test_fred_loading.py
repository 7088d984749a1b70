"""FRED loading in detail (the parsers are tests/market/domain/test_series.py): the snapshot, the live
path's URL and provenance note, and the exact warning (with the series and the reason) for each way the live path can fail."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import sys
import threading

import pytest

from services.market.fred import _SeriesFailed, load_series, load_snapshot
from services.market.sim.series import SERIES
from tests.market.fake_fred import FakeFred, fake_fred  # noqa: F401 - the fixture

FALLBACK = "falling back to the shipped FRED snapshot for every series"
BAD_KEY_MESSAGE = (
    "Bad Request.  The value for variable api_key is not registered.  "
    "Read https://fred.stlouisfed.org/docs/api/api_key.html for more information."
)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _two_rows_everywhere(fake: FakeFred) -> None:
    """Serve two observations per series, so the live path parses 26 rows rather than years of them."""
    for series_id in SERIES:
        fake.state.overrides[series_id] = {dt.date(2021, 3, 1): "1.2500", dt.date(2021, 3, 2): "."}


def test_the_snapshot_is_every_series_from_the_package_with_its_provenance() -> None:
    snapshot = load_snapshot()
    assert snapshot.notes == ("FRED snapshot shipped in the package (services/market/data/fred)",)
    assert list(snapshot.observations) == list(SERIES) == list(snapshot.text)
    # Values and texts come from the same CSV rows: a text exactly where there is a value.
    for series_id in SERIES:
        values = snapshot.observations[series_id]
        assert set(snapshot.text[series_id]) == {day for day, value in values.items() if value is not None}
    assert snapshot.text["DGS10"][dt.date(2021, 1, 4)] == "0.93"


def test_a_failed_series_names_itself_and_the_error() -> None:
    failed = _SeriesFailed("DGS2", ValueError("boom"))
    assert str(failed) == "DGS2: ValueError: boom"
    assert failed.series_id == "DGS2" and isinstance(failed.error, ValueError)


def test_a_root_url_with_a_trailing_slash_still_reaches_fred_and_is_noted(
    fake_fred: FakeFred,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A root "http://host/fred/" must not become ".../fred//series/observations" (the fake answers 404 to
    that, which would silently mean the snapshot). The note says where and from when."""
    _two_rows_everywhere(fake_fred)
    start = dt.date(2021, 3, 1)
    series = load_series(fake_fred.api_key, root_url=fake_fred.root_url + "/", start=start)
    assert _warnings(caplog) == []
    assert series.source == "fred"
    assert series.notes == (f"live FRED ({fake_fred.root_url}), observations from 2021-03-01",)
    assert list(series.observations) == list(SERIES)
    for series_id in SERIES:
        assert dict(series.observations[series_id]) == {dt.date(2021, 3, 1): 1.25, dt.date(2021, 3, 2): None}
        assert dict(series.text[series_id]) == {dt.date(2021, 3, 1): "1.25"}
    assert all(r.startswith("/fred/series/observations?") for r in fake_fred.state.requests)


def test_a_bad_key_falls_back_with_the_exact_warning_and_the_snapshots_text(
    fake_fred: FakeFred,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    series = load_series("wrongkeywrongkeywrongkeywrongkey", root_url=fake_fred.root_url)
    message = f"FRED series DGS3MO could not be loaded (ValueError: {BAD_KEY_MESSAGE}); {FALLBACK}"
    assert _warnings(caplog) == [message]
    assert series.notes == (*load_snapshot().notes, message)
    assert series.text == load_snapshot().text and series.source == "snapshot"


def test_a_failing_later_series_is_named_with_its_error(
    fake_fred: FakeFred,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    _two_rows_everywhere(fake_fred)
    fake_fred.state.fail("DEXJPUS", "empty")
    series = load_series(fake_fred.api_key, root_url=fake_fred.root_url, start=dt.date(2021, 3, 1))
    message = (
        "FRED series DEXJPUS could not be loaded (ValueError: FRED returned no observations for DEXJPUS); "
        + FALLBACK
    )
    assert _warnings(caplog) == [message]
    assert series.source == "snapshot"


def test_without_fredapi_installed_a_key_falls_back_naming_no_series(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """fredapi is the market extra: a key on an install without it must not stop the simulation. The
    failure is before any series is asked for, so the warning names "(all)"."""
    monkeypatch.setitem(sys.modules, "fredapi", None)  # what Python does for a module that is absent
    series = load_series("abcdefghijklmnopqrstuvwxyz123456", root_url="http://127.0.0.1:9/fred")
    [warning] = _warnings(caplog)
    assert warning.startswith("FRED series (all) could not be loaded (ModuleNotFoundError: import of fredapi")
    assert warning.endswith(f"); {FALLBACK}")
    assert series.source == "snapshot"


def test_a_fred_that_never_answers_falls_back_after_the_timeout(caplog: pytest.LogCaptureFixture) -> None:
    """A listening socket that never accepts: the request connects and then waits for ever, as behind a
    firewall that swallows packets. The loader gives up after timeout_s and says so. The fetch that is
    still waiting runs in a daemon thread named fred-fetch, so it can never keep the process from exiting
    (fredapi's urlopen cannot be cancelled)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        before = set(threading.enumerate())
        series = load_series(
            "abcdefghijklmnopqrstuvwxyz123456", root_url=f"http://127.0.0.1:{port}/fred", timeout_s=0.25
        )
        [waiting] = [t for t in set(threading.enumerate()) - before if t.is_alive()]
        assert waiting.name == "fred-fetch" and waiting.daemon
    assert _warnings(caplog) == [
        f"FRED series (all) could not be loaded (no answer from FRED within 0.25 s); {FALLBACK}"
    ]
    assert series.source == "snapshot"


def test_a_root_url_is_used_as_given_apart_from_trailing_slashes(
    fake_fred: FakeFred,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Only slashes are trimmed from the end of the root URL: ".../fredX" is another address (the fake
    FRED answers 404 there), not ".../fred" with a stray letter dropped."""
    series = load_series(fake_fred.api_key, root_url=fake_fred.root_url + "X", start=dt.date(2021, 3, 1))
    assert series.source == "snapshot"
    [warning] = _warnings(caplog)
    assert warning.startswith("FRED series DGS3MO could not be loaded")
    assert fake_fred.state.requests[0].startswith("/fredX/series/observations?")
