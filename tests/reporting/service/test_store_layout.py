"""A reporting store written before the day ends were split in three tables is refused with what to do,
rather than failing later on a missing table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from services.reporting.store import ReportingStore, StoreOutdated


def test_a_store_of_the_earlier_layout_is_refused_naming_the_remedy(tmp_path: Path) -> None:
    path = tmp_path / "reporting.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE reporting_state (id INTEGER PRIMARY KEY, cursor INTEGER NOT NULL, state TEXT)"
        )
        conn.execute("CREATE TABLE nav_days (mandate_id TEXT, date TEXT, detail TEXT, exposure TEXT)")
        conn.execute("PRAGMA user_version = 1")
    with pytest.raises(StoreOutdated, match="remove the file and reporting rebuilds it from market's stream"):
        ReportingStore(path)


def test_a_new_store_opens_and_opens_again(tmp_path: Path) -> None:
    ReportingStore(tmp_path / "reporting.sqlite3").close()
    store = ReportingStore(tmp_path / "reporting.sqlite3")
    assert store.load() == (0, None)
    store.close()
