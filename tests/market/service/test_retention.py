"""Market's retention (services/market/retention.py): the last N events, or the last N business
days, whichever trims more, and never an event a declared follower has not acknowledged."""

from __future__ import annotations

import pytest

from services.market.retention import Retention, RetentionPolicy, UnknownFollower, parse_followers


def test_the_count_limit_keeps_the_last_n_events() -> None:
    retention = Retention(RetentionPolicy(events=100), followers=())
    assert retention.keep_from(50) == 1  # fewer than 100 events: everything
    assert retention.keep_from(1_000) == 901  # seqs 901..1000 are the last 100


def test_the_age_limit_keeps_the_last_n_business_days_when_it_trims_more() -> None:
    retention = Retention(RetentionPolicy(events=10_000, days=3), followers=())
    for first_seq in (1, 151, 301):
        retention.on_day(first_seq)
    assert retention.keep_from(450) == 1  # three days held: all of them are the last three
    retention.on_day(451)
    assert retention.keep_from(600) == 151  # days from 151, 301, 451
    # Where the count limit trims more, it wins: 200 events from a head of 600 is 401.
    tight = Retention(RetentionPolicy(events=200, days=3), followers=())
    for first_seq in (1, 151, 301, 451):
        tight.on_day(first_seq)
    assert tight.keep_from(600) == 401


def test_a_declared_follower_holds_every_event_it_has_not_acknowledged() -> None:
    retention = Retention(RetentionPolicy(events=100), followers=("ledger", "recon"))
    assert retention.keep_from(1_000) == 1  # neither has acknowledged: everything is kept
    retention.acknowledge("ledger", 950, head_seq=1_000)
    assert retention.keep_from(1_000) == 1  # recon still holds from seq 1
    retention.acknowledge("recon", 400, head_seq=1_000)
    assert retention.keep_from(1_000) == 401  # the slowest follower's next event
    retention.acknowledge("recon", 1_000, head_seq=1_000)
    assert retention.keep_from(1_000) == 901  # both caught up: the count limit again
    assert retention.positions == {"ledger": 950, "recon": 1_000}


def test_positions_restored_from_the_log_are_kept_for_declared_followers_only() -> None:
    retention = Retention(
        RetentionPolicy(events=10), followers=("recon",), acknowledged={"recon": 70, "old": 5}
    )
    assert retention.positions == {"recon": 70}
    assert retention.keep_from(100) == 71


def test_an_undeclared_follower_or_a_seq_past_the_head_is_refused_and_changes_nothing() -> None:
    retention = Retention(RetentionPolicy(events=10), followers=("recon",))
    with pytest.raises(UnknownFollower) as unknown:
        retention.acknowledge("audit", 5, head_seq=100)
    assert str(unknown.value) == (
        "'audit' is not a declared follower (declared: recon); add it to OPSUITE_MARKET_FOLLOWERS so "
        "market keeps the events it has not applied"
    )
    with pytest.raises(ValueError, match=r"applied_seq 101 is past market's head, seq 100"):
        retention.acknowledge("recon", 101, head_seq=100)
    assert retention.positions == {"recon": 0}


def test_follower_names_are_parsed_and_checked() -> None:
    assert parse_followers(" ledger, recon ,,ledger") == ("ledger", "recon")
    assert parse_followers("") == ()
    with pytest.raises(ValueError, match="'Recon!' is not a follower name"):
        parse_followers("ledger,Recon!")
