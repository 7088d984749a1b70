"""How `make test` shares its tests between pytest-xdist's workers: a test file at a time, except that
every test reading one of the expensive shared worlds runs on the same worker.

Each xdist worker is its own pytest session, so a session fixture such as the finished suite
(`opsuite up` over 40 days, tests/support/finished_suite.py) or documents' world (a documents
service with its embedding model, tests/documents/conftest.py) starts once on every worker that
reaches a test using it: with files dealt out one by one, on both. Those starts are over a minute
of CPU each on a 2-core machine, where the whole run is bound by CPU.

Only the workers collect, so only they know which tests use such a fixture, directly or through
another one (an item's fixturenames is the whole closure). Each worker writes that (node id ->
shared world) to a file in a folder the controller names in its workerinput; the controller's
scheduler reads it when it deals out the work, after every worker has collected, and keeps a shared
world's tests together as one unit of work and every other test with its file, as `--dist loadfile`
does (module fixtures still start once). xdist's own `--dist loadgroup` marks groups by renaming node
ids, which pytest 9 no longer lets it do: xdist 3.8 sets an attribute pytest no longer reads, and the
marks are silently ignored (pytest-dev/pytest-xdist#1386, "`--dist=loadgroup` silently stops grouping
on pytest main: the nodeid mutation no longer takes effect"; a maintainer there: "we need to transfer
the groups separately", as this does).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from xdist.remote import Producer
from xdist.scheduler import LoadFileScheduling

# The session fixtures worth starting once a run.
SHARED_WORLDS = ("finished_suite", "documents_world")
GROUPS_FOLDER = "opsuite_shared_world_groups"
_folder_key = pytest.StashKey[Path]()


def group_of(fixturenames: list[str]) -> str | None:
    """The shared world a test reads, if any: the first of SHARED_WORLDS among its fixtures."""
    return next((world for world in SHARED_WORLDS if world in fixturenames), None)


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and config.getvalue("dist") == "loadfile":
        config.stash[_folder_key] = Path(tempfile.mkdtemp(prefix="opsuite-xdist-groups-"))


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_folder_key, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_configure_node(node: Any) -> None:
    """The controller tells each worker where to write its groups (xdist's hook, controller side)."""
    folder = node.config.stash.get(_folder_key, None)
    if folder is not None:
        node.workerinput[GROUPS_FOLDER] = str(folder)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    workerinput = getattr(config, "workerinput", None)
    if not workerinput or GROUPS_FOLDER not in workerinput:
        return
    groups = {
        item.nodeid: world
        for item in items
        if (world := group_of(list(getattr(item, "fixturenames", ())))) is not None
    }
    target = Path(workerinput[GROUPS_FOLDER]) / f"{workerinput['workerid']}.json"
    partial = target.with_suffix(".partial")
    partial.write_text(json.dumps(groups))
    partial.replace(target)  # whole or absent, never half written


class FilesAndSharedWorlds(LoadFileScheduling):
    """A unit of work is a shared world's tests when the test reads one, its file otherwise."""

    def __init__(
        self, config: pytest.Config, log: Producer | None = None, folder: Path | None = None
    ) -> None:
        super().__init__(config, log)
        self._folder = folder
        self._groups: dict[str, str] | None = None

    def groups(self) -> dict[str, str]:
        # Read at the first deal, when every worker has collected (and so written its file); the
        # workers collect the same tests, so any one file will do.
        if self._groups is None:
            files = sorted(self._folder.glob("*.json")) if self._folder else []
            self._groups = json.loads(files[0].read_text()) if files else {}
        return self._groups

    def _split_scope(self, nodeid: str) -> str:
        return self.groups().get(nodeid) or super()._split_scope(nodeid)


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which answers for --dist loadfile
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> FilesAndSharedWorlds | None:
    folder = config.stash.get(_folder_key, None)
    if folder is None:
        return None
    return FilesAndSharedWorlds(config, log, folder)
