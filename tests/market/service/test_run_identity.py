"""A run's identity includes its data: the hash of every observation and the data's last day, so a
restart over other data is refused (RunIdentity.differences), while the same data reached another
way (the snapshot's text or live FRED's) is the same run."""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType

from services.market.fred import load_snapshot
from services.market.run_identity import WORLD_VERSION, RunIdentity, parse_record
from services.market.run_plan import plan_for_series
from services.market.sim.series import SeriesSet, fingerprint

START = dt.date(2020, 3, 2)


def _with(series: SeriesSet, series_id: str, day: dt.date, value: float | None) -> SeriesSet:
    observations = dict(series.observations)
    observations[series_id] = MappingProxyType({**series.observations[series_id], day: value})
    return SeriesSet(MappingProxyType(observations), series.source, series.notes, series.text)


def test_the_hash_is_of_values_so_the_same_data_from_live_fred_is_the_same_run() -> None:
    snapshot = load_snapshot()
    # Live FRED has no CSV text ("1.1760"), only the parsed numbers: the same data.
    as_live = SeriesSet(snapshot.observations, "fred", (), text={})
    assert fingerprint(as_live) == fingerprint(snapshot)
    assert len(fingerprint(snapshot)) == 64  # SHA-256, hex


def test_a_revised_value_a_missing_value_or_one_more_day_changes_the_hash() -> None:
    snapshot = load_snapshot()
    base = fingerprint(snapshot)
    revised = _with(snapshot, "DGS10", dt.date(2019, 6, 3), 2.5)
    withdrawn = _with(snapshot, "DEXUSEU", dt.date(2019, 6, 3), None)
    longer = _with(snapshot, "DGS10", dt.date(2021, 1, 5), 0.95)
    hashes = {base, fingerprint(revised), fingerprint(withdrawn), fingerprint(longer)}
    assert len(hashes) == 4


def test_differences_name_what_changed_and_the_hash_only_when_nothing_else_explains_it() -> None:
    snapshot = load_snapshot()
    stored = RunIdentity.of(7, 1.0, plan_for_series(snapshot, START, 5)).as_record()
    assert RunIdentity.of(7, 1.0, plan_for_series(snapshot, START, 500)).differences(stored) == []

    revised = RunIdentity.of(
        7, 1.0, plan_for_series(_with(snapshot, "DGS10", dt.date(2019, 6, 3), 2.5), START, 5)
    )
    assert revised.differences(stored) == [
        f"data hash {str(stored['data_hash'])[:12]}, not {revised.data_hash[:12]}"
    ]

    longer = plan_for_series(_with(snapshot, "DGS10", dt.date(2021, 1, 5), 0.95), START, 5)
    assert longer.real_until == dt.date(2021, 1, 5)
    assert RunIdentity.of(8, 0.5, longer).differences(stored) == [
        "seed 7, not 8",
        "fault rate 1.0, not 0.5",
        "data ending 2021-01-04, not 2021-01-05",
    ]


def test_a_record_of_an_older_version_without_the_data_is_another_run() -> None:
    wanted = RunIdentity.of(7, 1.0, plan_for_series(load_snapshot(), START, 5))
    older = parse_record('{"seed": 7, "start": "2020-03-02", "fault_rate": 1, "data_source": "snapshot"}')
    assert wanted.differences(older) == [
        "data ending (not recorded), not 2021-01-04",
        f"simulation version (not recorded), not {WORLD_VERSION}",
    ]


def test_a_run_of_another_simulation_version_is_another_run() -> None:
    """A release whose simulation makes other events of a seed refuses to resume an older run (its
    replay would be another world under the stored events)."""
    wanted = RunIdentity.of(7, 1.0, plan_for_series(load_snapshot(), START, 5))
    stored = {**wanted.as_record(), "world": WORLD_VERSION - 1}
    assert wanted.differences(stored) == [f"simulation version {WORLD_VERSION - 1}, not {WORLD_VERSION}"]
    assert parse_record("not json") == {} and parse_record("[1]") == {} and parse_record(None) == {}
