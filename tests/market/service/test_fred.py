"""FRED loading: live through fredapi against a real local fake FRED, falling back to the snapshot."""

from __future__ import annotations

import datetime as dt
import logging
import socket

import pytest

from services.market.fred import load_series, load_snapshot, pack_series, unpack_series
from services.market.sim.series import SERIES
from tests.market.fake_fred import FakeFred, fake_fred  # noqa: F401 - the fixture

START = dt.date(2020, 1, 1)  # a short window keeps fredapi's per-row date parsing quick


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_snapshot_has_every_series_with_exact_text() -> None:
    snapshot = load_snapshot()
    assert snapshot.source == "snapshot"
    assert set(snapshot.observations) == set(SERIES)
    assert snapshot.observations["DGS10"][dt.date(1999, 1, 4)] == 4.69
    assert snapshot.observations["DGS10"][dt.date(1999, 1, 1)] is None  # "." in the CSV
    assert snapshot.text["DEXUSEU"][dt.date(1999, 1, 5)] == "1.1760"  # trailing zero kept


def test_packed_series_unpack_to_the_same_observations_and_text() -> None:
    snapshot = load_snapshot()
    again = unpack_series(pack_series(snapshot))
    assert (again.source, again.notes) == (snapshot.source, snapshot.notes)
    for series_id in SERIES:
        assert list(again.observations[series_id].items()) == list(snapshot.observations[series_id].items())
        assert list(again.text[series_id].items()) == list(snapshot.text[series_id].items())
    fx_only = unpack_series(pack_series(snapshot, text_of=("DEXUSEU",)))
    assert list(fx_only.text) == ["DEXUSEU"]
    assert fx_only.text["DEXUSEU"][dt.date(1999, 1, 5)] == "1.1760"  # the published text, kept
    assert dict(fx_only.observations) == dict(again.observations)


@pytest.mark.parametrize("key", [None, ""])
def test_no_key_uses_the_snapshot_without_a_warning(
    key: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    series = load_series(key)
    assert series.source == "snapshot"
    assert series.observations["DGS10"][dt.date(2021, 1, 4)] == 0.93
    assert _warnings(caplog) == []


def test_fredapi_path_returns_what_fred_served(fake_fred: FakeFred, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    made_up = {dt.date(2020, 1, 2): "1.2345", dt.date(2020, 1, 3): ".", dt.date(2020, 1, 6): "1.5"}
    fake_fred.state.overrides["DEXUSEU"] = made_up
    series = load_series(fake_fred.api_key, root_url=fake_fred.root_url, start=START)

    assert series.source == "fred"
    assert _warnings(caplog) == []
    assert dict(series.observations["DEXUSEU"]) == {
        dt.date(2020, 1, 2): 1.2345,
        dt.date(2020, 1, 3): None,
        dt.date(2020, 1, 6): 1.5,
    }
    assert series.text["DEXUSEU"][dt.date(2020, 1, 2)] == "1.2345"
    # Series not overridden are the snapshot's observations from START on, as served.
    snapshot = load_snapshot().observations["DGS10"]
    expected = {day: value for day, value in snapshot.items() if day >= START}
    assert dict(series.observations["DGS10"]) == expected
    # fredapi asked for every series, from START, on the documented path.
    asked = {r.split("series_id=")[1].split("&")[0] for r in fake_fred.state.requests}
    assert asked == set(SERIES)
    assert all(r.startswith("/fred/series/observations?") for r in fake_fred.state.requests)
    assert all(f"observation_start={START.isoformat()}" in r for r in fake_fred.state.requests)


def test_bad_key_falls_back_to_the_snapshot_with_a_warning(
    fake_fred: FakeFred,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    series = load_series("wrongkeywrongkeywrongkeywrongkey", root_url=fake_fred.root_url, start=START)
    assert series.source == "snapshot"
    assert series.observations == load_snapshot().observations
    [warning] = _warnings(caplog)
    assert "DGS3MO" in warning  # the first series asked for
    assert "api_key is not registered" in warning
    assert "falling back to the shipped FRED snapshot" in warning
    assert any("falling back" in note for note in series.notes)


def test_unreachable_fred_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and now has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    series = load_series(
        "abcdefghijklmnopqrstuvwxyz123456", root_url=f"http://127.0.0.1:{port}/fred", start=START
    )
    assert series.source == "snapshot"
    [warning] = _warnings(caplog)
    assert "URLError" in warning
    assert "falling back to the shipped FRED snapshot" in warning


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("server_error", "ParseError"), ("not_xml", "ParseError"), ("empty", "no observations")],
)
def test_a_failing_series_falls_back_and_is_named(
    fake_fred: FakeFred,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
    mode: str,
    reason: str,
) -> None:
    fake_fred.state.fail("T10YIE", mode)
    series = load_series(fake_fred.api_key, root_url=fake_fred.root_url, start=START)
    assert series.source == "snapshot"
    [warning] = _warnings(caplog)
    assert "T10YIE" in warning
    assert reason in warning
    assert "falling back" in warning
