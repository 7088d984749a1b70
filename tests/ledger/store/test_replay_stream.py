"""Replaying market's stream into the ledger a second time changes nothing, on both backends."""

from __future__ import annotations

from services.ledger.store import LedgerStore
from tests.ledger.domain.sim_runs import simulated_run


def _post_stream(store: LedgerStore, seed: int, days: int) -> list[bool]:
    """Book a simulated run day by day, as the consumer does; returns each journal's `replayed`."""
    run = simulated_run(seed, days, 1.0)
    book = run.book()
    replayed: list[bool] = []
    for day in run.days:
        drafts = [draft for event in day.events for draft in book.apply(event)]
        last_seq = day.events[-1].seq
        replayed += [
            r.replayed for r in store.post(drafts, open_missing=True, cursor=last_seq, state=book.to_json())
        ]
    return replayed


def test_replaying_the_stream_twice_changes_nothing(store: LedgerStore) -> None:
    first = _post_stream(store, seed=7, days=15)
    assert first and not any(first)
    counts = store.counts()
    mandates = sorted({a.mandate_id for a in store.accounts()})
    balances = {m: store.trial_balance(m, None) for m in mandates}

    again = _post_stream(store, seed=7, days=15)
    assert again == [True] * len(first)
    assert store.counts() == counts
    assert {m: store.trial_balance(m, None) for m in mandates} == balances
