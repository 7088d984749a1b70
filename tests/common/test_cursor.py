from __future__ import annotations

import pathlib

import pytest

from services.common.cursor import FileCursorStore, MemoryCursorStore


def test_missing_file_means_nothing_applied(tmp_path: pathlib.Path) -> None:
    assert FileCursorStore(tmp_path / "none" / "cursor").load() == 0


def test_save_then_load_in_a_new_store(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "recon" / "market.cursor"
    FileCursorStore(path).save(41)
    FileCursorStore(path).save(1042)
    assert FileCursorStore(path).load() == 1042
    # The temp file of the atomic replace does not linger.
    assert sorted(p.name for p in path.parent.iterdir()) == ["market.cursor"]


def test_corrupt_file_is_an_error_not_a_guess(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "cursor"
    path.write_text("12x\n")
    with pytest.raises(ValueError, match="does not hold a seq"):
        FileCursorStore(path).load()


def test_negative_seq_is_refused(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError):
        FileCursorStore(tmp_path / "cursor").save(-1)


def test_memory_store() -> None:
    store = MemoryCursorStore(5)
    assert store.load() == 5
    store.save(6)
    assert store.load() == 6
