"""`make test`'s scheduling (tests/support/xdist_scheduling.py): files stay whole, and a shared
world's tests form one unit of work, so its session fixture starts on one worker only."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.xdist_scheduling import FilesAndSharedWorlds, group_of


def _scheduler(folder: Path) -> FilesAndSharedWorlds:
    # _split_scope reads only the groups folder; a scheduler without its workers will do.
    scheduler = object.__new__(FilesAndSharedWorlds)
    scheduler._folder, scheduler._groups = folder, None
    return scheduler


def test_a_test_without_a_group_is_scheduled_with_its_file(tmp_path: Path) -> None:
    (tmp_path / "gw0.json").write_text("{}")
    scheduler = _scheduler(tmp_path)
    assert scheduler._split_scope("tests/ledger/test_a.py::test_one") == "tests/ledger/test_a.py"
    assert scheduler._split_scope("tests/ledger/test_a.py::TestX::test_two[p]") == "tests/ledger/test_a.py"


def test_the_tests_of_one_shared_world_are_one_unit_whatever_their_files(tmp_path: Path) -> None:
    groups = {
        "tests/cli/test_status.py::test_x": "finished_suite",
        "tests/edge/test_edge_auth.py::test_y[a]": "finished_suite",
        "tests/documents/service/test_cli.py::test_z": "documents_world",
    }
    (tmp_path / "gw1.json").write_text(json.dumps(groups))
    scheduler = _scheduler(tmp_path)
    assert scheduler._split_scope("tests/cli/test_status.py::test_x") == "finished_suite"
    assert scheduler._split_scope("tests/edge/test_edge_auth.py::test_y[a]") == "finished_suite"
    assert scheduler._split_scope("tests/documents/service/test_cli.py::test_z") == "documents_world"
    # A test of the same file that reads no shared world stays with its file.
    assert scheduler._split_scope("tests/cli/test_status.py::test_w") == "tests/cli/test_status.py"


def test_a_test_reading_a_shared_world_through_another_fixture_joins_its_group() -> None:
    # The edge tests' `edge` fixture starts on the finished suite: fixturenames is the closure.
    assert group_of(["edge", "finished_suite", "tmp_path"]) == "finished_suite"
    assert group_of(["documents_world"]) == "documents_world"
    assert group_of(["tmp_path", "postgres_dsn"]) is None
