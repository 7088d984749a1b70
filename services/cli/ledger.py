"""opsuite ledger ...: the book of record from the command line (export for now).

The export reads the store directly (no ledger server needed), in an order
that keeps the file consistent while the ledger keeps posting: each
mandate's trial balance first, then its journals up to the highest
ledger_seq that trial balance counted, then the chart (which by then names
every account those journals use).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import pathlib
import sys
from collections.abc import Iterator, Mapping, Sequence

from services.common.settings import load_settings
from services.ledger.domain.records import Account, BalanceLine, Journal
from services.ledger.domain.rules import LedgerBook
from services.ledger.export.beancount import brought_forward_lines, export_beancount
from services.ledger.settings import LedgerSettings
from services.ledger.store import LedgerFilter, LedgerStore, open_store
from services.ledger.store.factory import SQLITE_FILE

PAGE = 1000
PROGRESS_EVERY = 20_000  # journals between progress lines on stderr


class ExportError(Exception):
    """A problem the person running the command can fix (exit 2)."""


def export(args: argparse.Namespace) -> int:
    """`opsuite ledger export`: write the ledger as a Beancount file; 0 on success, 2 on a usage error."""
    try:
        text, summary = _export_text(args.mandate or [], args.as_of)
    except ExportError as error:
        print(f"opsuite ledger export: {error}", file=sys.stderr)
        return 2
    except ValueError as error:  # records that do not fit together: a ledger bug, not a usage error
        print(f"opsuite ledger export: cannot export: {error}", file=sys.stderr)
        return 1
    if args.out:
        _write_atomically(pathlib.Path(args.out), text)
    else:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:  # the reader stopped early (| head): not an error of ours
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
    print(f"{summary}{f' to {args.out}' if args.out else ''}", file=sys.stderr)
    return 0


def _export_text(requested: Sequence[str], as_of: dt.date | None) -> tuple[str, str]:
    settings = load_settings(LedgerSettings)
    if not settings.ledger_dsn:
        path = settings.data_dir / "ledger" / SQLITE_FILE
        if not path.exists():
            raise ExportError(
                f"no ledger at {path} (set OPSUITE_DATA_DIR, or OPSUITE_LEDGER_DSN for PostgreSQL)"
            )
    try:
        store = open_store(settings.ledger_dsn, settings.service_dir("ledger"))
    except ValueError as error:
        raise ExportError(str(error)) from None
    try:
        return _read_and_render(store, requested, as_of)
    finally:
        store.close()


def _read_and_render(store: LedgerStore, requested: Sequence[str], as_of: dt.date | None) -> tuple[str, str]:
    every_account = store.accounts("", include_closed=True)
    bases, lot_methods = mandate_facts(store, every_account)
    unknown = sorted(set(requested) - set(bases))
    if unknown:
        known = ", ".join(sorted(bases)) or "none"
        raise ExportError(f"unknown mandate {', '.join(map(repr, unknown))}; the ledger has: {known}")
    selected = sorted(set(requested)) if requested else sorted(bases)

    # After a period close the journals before its horizon are gone: the file opens with each
    # mandate's balances brought forward to it, and the journals kept follow.
    closed_before = store.closed_period().closed_before
    if closed_before is not None and as_of is not None and as_of < closed_before:
        raise ExportError(
            f"the ledger closed the period before {closed_before.isoformat()} (OPSUITE_LEDGER_KEEP_DAYS): "
            f"export as of {closed_before.isoformat()} or later"
        )
    balances: dict[str, Sequence[BalanceLine]] = {}
    brought_forward: dict[str, Sequence[BalanceLine]] = {}
    journals: list[Journal] = []
    for mandate_id in selected:
        trial = store.trial_balance(mandate_id, as_of)
        balances[mandate_id] = trial.lines
        kept = list(_journals(store, mandate_id, as_of, trial.as_of_ledger_seq, len(journals), closed_before))
        journals.extend(kept)
        if closed_before is not None:
            on_horizon = [j for j in kept if j.draft.effective_date == closed_before]
            at_horizon = store.balances(mandate_id, [], closed_before)
            brought_forward[mandate_id] = brought_forward_lines(at_horizon, on_horizon)
    accounts: list[Account] = []
    for mandate_id in selected:
        accounts.extend(store.accounts(mandate_id, include_closed=True))
    text = export_beancount(
        accounts,
        journals,
        mandates={m: bases[m] for m in selected},
        as_of=as_of,
        balances=balances,
        lot_methods={m: lot_methods[m] for m in selected if m in lot_methods},
        brought_forward=brought_forward,
        closed_before=closed_before,
    )
    horizon = as_of.isoformat() if as_of else "everything posted"
    opened = sum(1 for a in accounts if as_of is None or a.opened_on <= as_of)
    summary = (
        f"exported {len(journals)} journals and {opened} accounts of {', '.join(selected) or 'no mandate'}"
        f" ({horizon})"
    )
    return text, summary


def _journals(
    store: LedgerStore,
    mandate_id: str,
    as_of: dt.date | None,
    up_to_seq: int,
    already: int,
    closed_before: dt.date | None = None,
) -> Iterator[Journal]:
    """The mandate's journals dated up to as_of (from closed_before, after a close), none posted
    after the trial balance was read."""
    flt = LedgerFilter(mandate_id=mandate_id, date_from=closed_before, date_to=as_of)
    after = 0
    count = 0
    while after < up_to_seq:
        page = store.journals(flt, after_seq=after, limit=PAGE)
        if not page:
            break
        for journal in page:
            if journal.ledger_seq > up_to_seq:
                return
            yield journal
            count += 1
            if (already + count) % PROGRESS_EVERY == 0:
                print(f"ledger export: {already + count} journals read ({mandate_id})", file=sys.stderr)
        after = page[-1].ledger_seq


def mandate_facts(store: LedgerStore, accounts: Sequence[Account]) -> tuple[dict[str, str], dict[str, str]]:
    """(mandate -> base currency, mandate -> lot method) for every mandate the ledger knows.

    The posting rules' saved state names the market's mandates with both facts; a mandate that only
    appears in the chart (manual journals, or a ledger with no saved state) gets its base currency
    from the chart and no lot method.
    """
    bases: dict[str, str] = {}
    methods: dict[str, str] = {}
    _, state = store.load_cursor()
    if state:
        book = LedgerBook.from_json(state)
        for mandate_id, info in book.mandates.items():
            bases[mandate_id] = info.base_currency
            methods[mandate_id] = info.lot_method
    charts: dict[str, list[Account]] = {}
    for account in accounts:
        charts.setdefault(account.mandate_id, []).append(account)
    for mandate_id, chart in charts.items():
        bases.setdefault(mandate_id, infer_base_currency(chart))
    return bases, methods


def infer_base_currency(chart: Sequence[Account]) -> str:
    """The base currency read off a chart: FX revaluation and capital are kept in base
    (docs/ledger-design.md); failing those, the first currency any account holds."""
    by_name: Mapping[str, str] = {a.name: a.currency for a in chart}
    for parent in ("Income:FxRevaluation:", "Equity:Capital:"):
        found = sorted(ccy for name, ccy in by_name.items() if name.startswith(parent) and ccy)
        if found:
            return found[0]
    held = sorted(ccy for ccy in by_name.values() if ccy)
    return held[0] if held else "USD"


def _write_atomically(path: pathlib.Path, text: str) -> None:
    """A reader (or bean-check) never sees half a file: write beside it, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with open(partial, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise
