"""`opsuite ledger export`: reading the store from the settings, and errors a person can act on (exit 2)."""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest

from services.cli.main import main
from services.ledger.store import LedgerStore, open_store
from tests.ledger.export.conftest import HAND_DRAFTS, assert_bean_check_passes, load

HandStore = tuple[LedgerStore, pathlib.Path]
EXPORT = ["ledger", "export", "--format", "beancount"]


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("OPSUITE_LEDGER_DSN", "OPSUITE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_an_unknown_mandate_is_named_with_the_known_ones(
    hand_store: HandStore,
    settings_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: pathlib.Path,
) -> None:
    _, data_dir = hand_store
    settings_env.setenv("OPSUITE_DATA_DIR", str(data_dir))
    out = tmp_path / "never.beancount"
    assert main([*EXPORT, "--mandate", "BAL-USD", "--mandate", "NOPE", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        "opsuite ledger export: unknown mandate 'NOPE'; the ledger has: BAL-USD, INC-GBP"
    )
    assert captured.out == ""
    assert not out.exists()


def test_a_bad_date_or_format_is_a_usage_error(
    settings_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*EXPORT, "--as-of", "2020-02-30"])
    assert exit_info.value.code == 2
    assert "'2020-02-30' is not a date like 2020-01-02" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["ledger", "export", "--format", "ledger-cli"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'ledger-cli'" in capsys.readouterr().err


def test_a_missing_ledger_is_reported_not_created(
    settings_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    settings_env.setenv("OPSUITE_DATA_DIR", str(tmp_path / "empty"))
    assert main(EXPORT) == 2
    assert f"no ledger at {tmp_path / 'empty' / 'ledger' / 'ledger.sqlite3'}" in capsys.readouterr().err
    assert not (tmp_path / "empty" / "ledger" / "ledger.sqlite3").exists()


def test_stdout_export_without_saved_rules_state(
    hand_store: HandStore,
    settings_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: pathlib.Path,
) -> None:
    """Journals posted straight into the store leave no rules' state: base currencies come from the chart."""
    _, data_dir = hand_store
    settings_env.setenv("OPSUITE_DATA_DIR", str(data_dir))
    assert main(EXPORT) == 0
    captured = capsys.readouterr()
    assert 'option "operating_currency" "GBP"\noption "operating_currency" "USD"\n' in captured.out
    assert "exported 6 journals and 10 accounts of BAL-USD, INC-GBP (everything posted)" in captured.err
    path = tmp_path / "stdout.beancount"
    path.write_text(captured.out, encoding="utf-8")
    assert_bean_check_passes(path)


def test_export_from_postgresql(
    postgres_dsn: str,
    settings_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: pathlib.Path,
) -> None:
    store = open_store(postgres_dsn, tmp_path)
    try:
        store.post(HAND_DRAFTS, open_missing=True)
    finally:
        store.close()
    settings_env.setenv("OPSUITE_LEDGER_DSN", postgres_dsn)
    settings_env.setenv("OPSUITE_DATA_DIR", str(tmp_path / "unused"))
    out = tmp_path / "pg.beancount"
    assert main([*EXPORT, "--mandate", "INC-GBP", "--out", str(out)]) == 0
    assert_bean_check_passes(out)
    text = out.read_text(encoding="utf-8")
    assert "2020-01-07 balance Assets:INC-GBP:Cash:GBP  499987.66 ~ 0 GBP" in text  # 500,000.00 - 12.34
    assert len(load(out)) > 0


def test_a_ledger_that_closed_a_period_exports_its_balances_brought_forward(
    hand_store: HandStore,
    settings_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: pathlib.Path,
) -> None:
    """After a period close (OPSUITE_LEDGER_KEEP_DAYS) the journals before its horizon are gone: the
    file opens with each mandate's balances brought forward to the day before it, then the journals
    kept. Beancount checks that they add up to the very balance assertions of the file exported
    before the close; an as-of inside the closed period is refused naming the horizon."""
    store, data_dir = hand_store
    settings_env.setenv("OPSUITE_DATA_DIR", str(data_dir))
    before = tmp_path / "before.beancount"
    assert main([*EXPORT, "--out", str(before)]) == 0
    assert store.close_period(dt.date(2020, 1, 6), keep_days=1) is not None
    after = tmp_path / "after.beancount"
    assert main([*EXPORT, "--out", str(after)]) == 0
    assert_bean_check_passes(after)

    def assertions(path: pathlib.Path) -> list[str]:
        return [line for line in path.read_text().splitlines() if " balance " in line]

    assert assertions(after) == assertions(before) != []
    text = after.read_text()
    assert "brought forward: the ledger closed the period before 2020-01-06" in text
    dated = [line[:10] for line in text.splitlines() if line[:4] == "2020" and " * " in line]
    assert dated and min(dated) == "2020-01-05"  # the brought-forward day; no journal before the horizon
    capsys.readouterr()

    assert main([*EXPORT, "--as-of", "2020-01-03", "--out", str(tmp_path / "never.beancount")]) == 2
    assert capsys.readouterr().err.strip() == (
        "opsuite ledger export: the ledger closed the period before 2020-01-06 (OPSUITE_LEDGER_KEEP_DAYS):"
        " export as of 2020-01-06 or later"
    )
    assert not (tmp_path / "never.beancount").exists()
