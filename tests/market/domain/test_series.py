"""The FRED series as the simulation reads them (services/market/sim/series.py): the snapshot's CSV text
and fredapi's pandas observations parsed to values and published text."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from services.market.sim.series import SeriesSet, parse_csv, parse_observations


def test_a_csv_maps_missing_and_empty_values_to_none_and_keeps_the_published_text() -> None:
    """A "." is FRED's marker for no value and an empty cell means the same; a value keeps its text as
    published (trailing zero included, surrounding blanks dropped); blank lines anywhere are skipped."""
    content = "DATE,DEXUSEU\n2021-01-04,1.2250\n\n2021-01-05, 1.2300 \n2021-01-06,.\n2021-01-07,\n\n2021-01-08,1.2\n"
    values, texts = parse_csv("DEXUSEU", content)
    assert values == {
        dt.date(2021, 1, 4): 1.225,
        dt.date(2021, 1, 5): 1.23,
        dt.date(2021, 1, 6): None,
        dt.date(2021, 1, 7): None,
        dt.date(2021, 1, 8): 1.2,
    }
    assert texts == {dt.date(2021, 1, 4): "1.2250", dt.date(2021, 1, 5): "1.2300", dt.date(2021, 1, 8): "1.2"}


@pytest.mark.parametrize(
    "header",
    [
        "DATE,DGS2",  # another series' file
        "DATE,DGS10,EXTRA",  # the right series, but a third column
        "DATE",  # one column
    ],
)
def test_a_csv_with_the_wrong_header_is_refused_naming_the_file_and_what_was_found(header: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_csv("DGS10", f"{header}\n2021-01-04,0.93\n")
    assert str(refused.value) == f"DGS10.csv: expected header DATE,DGS10, found {header}"


def test_pandas_observations_map_nan_to_none_and_keep_the_shortest_text_of_each_float() -> None:
    """fredapi returns a float Series indexed by Timestamps; NaN is a missing day. The text is repr of
    the float: 1.1760 arrives as 1.176."""
    data = pd.Series(
        {
            pd.Timestamp("2021-01-04"): 1.1760,
            pd.Timestamp("2021-01-05"): float("nan"),
            pd.Timestamp("2021-01-06"): 2.0,
        }
    )
    values, texts = parse_observations("DEXUSEU", data)
    assert values == {dt.date(2021, 1, 4): 1.176, dt.date(2021, 1, 5): None, dt.date(2021, 1, 6): 2.0}
    assert texts == {dt.date(2021, 1, 4): "1.176", dt.date(2021, 1, 6): "2.0"}


def test_pandas_observations_with_text_dates_are_read_by_their_first_ten_characters() -> None:
    """An index of strings (no .date()): the date is the first ten characters, whatever follows."""
    data = pd.Series({"2021-01-04T00:00:00": 0.5, "2021-01-05 00:00": 0.75})
    values, texts = parse_observations("DFF", data)
    assert values == {dt.date(2021, 1, 4): 0.5, dt.date(2021, 1, 5): 0.75}
    assert texts == {dt.date(2021, 1, 4): "0.5", dt.date(2021, 1, 5): "0.75"}


def test_a_series_of_only_missing_values_is_no_series() -> None:
    data = pd.Series({pd.Timestamp("2021-01-04"): float("nan")})
    with pytest.raises(ValueError, match=r"^FRED returned no observations for DGS5$"):
        parse_observations("DGS5", data)


def test_a_note_is_added_without_changing_the_observations() -> None:
    series = SeriesSet({"DGS10": {dt.date(2021, 1, 4): 0.93}}, "snapshot", ("first",), {"DGS10": {}})
    noted = series.with_note("second")
    assert noted.notes == ("first", "second") and series.notes == ("first",)
    assert (noted.observations, noted.source, noted.text) == (series.observations, "snapshot", series.text)
