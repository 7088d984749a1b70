"""The one SQLite migration helper every embedded store uses."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from services.common.sqlite import migrate_schema

STEPS = (("CREATE TABLE a (x INTEGER)",), ("ALTER TABLE a ADD COLUMN y TEXT", "CREATE TABLE b (z INTEGER)"))


class TooNew(Exception):
    pass


def _open(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_a_new_file_runs_every_step_and_a_second_open_runs_none(tmp_path: Path) -> None:
    conn = _open(tmp_path / "s.sqlite3")
    assert migrate_schema(conn, STEPS, lambda found, known: TooNew()) == 0
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert [r[1] for r in conn.execute("PRAGMA table_info(a)")] == ["x", "y"]
    # Running again finds version 2 and must not re-run the ALTER (which would fail).
    assert migrate_schema(conn, STEPS, lambda found, known: TooNew()) == 2


def test_an_older_file_runs_only_the_missing_steps(tmp_path: Path) -> None:
    conn = _open(tmp_path / "s.sqlite3")
    migrate_schema(conn, STEPS[:1], lambda found, known: TooNew())
    conn.execute("INSERT INTO a (x) VALUES (7)")
    assert migrate_schema(conn, STEPS, lambda found, known: TooNew()) == 1
    assert conn.execute("SELECT x, y FROM a").fetchall() == [(7, None)]


def test_a_file_from_a_newer_release_is_refused_and_left_alone(tmp_path: Path) -> None:
    conn = _open(tmp_path / "s.sqlite3")
    conn.execute("PRAGMA user_version = 3")
    with pytest.raises(TooNew, match="found 3, known 2"):
        migrate_schema(conn, STEPS, lambda found, known: TooNew(f"found {found}, known {known}"))
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_a_failing_step_rolls_back_whole_and_keeps_the_version(tmp_path: Path) -> None:
    conn = _open(tmp_path / "s.sqlite3")
    broken = (STEPS[0], ("CREATE TABLE c (q INTEGER)", "NOT SQL"))
    with pytest.raises(sqlite3.OperationalError):
        migrate_schema(conn, broken, lambda found, known: TooNew())
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master ORDER BY name")] == ["a"]
