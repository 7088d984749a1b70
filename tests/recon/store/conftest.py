"""A recon store in tmp_path that each test may close and reopen."""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Iterator

import pytest

from services.recon.store import ReconStore, open_store


@pytest.fixture
def opener(tmp_path: pathlib.Path) -> Iterator[Callable[[], ReconStore]]:
    """Opens (or reopens) the store of this test; every store opened is closed afterwards."""
    opened: list[ReconStore] = []

    def open_() -> ReconStore:
        store = open_store(tmp_path)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def store(opener: Callable[[], ReconStore]) -> ReconStore:
    return opener()
