"""Chaos (issue 9): SIGKILLs of market, ledger, dq, recon, reporting and documents at moments drawn
from a logged seed, some while a write is in flight, change nothing: the run ends with the same
books as an uninterrupted run of the same simulation seed.

Two runs of OPSUITE_SEED=7 from 2020-02-03, each as real processes sharing one data directory
(and so one combined event log), the way `opsuite up` runs them:

- the reference: market at full speed, its followers never interrupted, run until each has
  applied market's last event; then the planned writes (tests/chaos/writes.py) are made once each;
- the chaos run: market at a live speed while the killer (tests/chaos/killer.py, seeded by
  OPSUITE_CHAOS_SEED, default 7) SIGKILLs a service, restarts it on the same address and data,
  waits until it listens, and goes on; some kills land while a PostJournal or UpdateBreak to the
  victim is unanswered, and that write is retried after the restart until it lands. Writes that
  no kill interrupted are made at the end, so both runs get every planned write exactly once.

Then, compared by what the business sees rather than by generated ids or storage order
(tests/support/run_state.py): every journal by idempotency key (mandate, kind, effective date,
the multiset of postings, causes), each mandate's trial balance as of every business day and
now, every break (kind, status, first-seen and last-seen dates, age, bucket, escalation,
assignee, its suspense journal's key, ...), the suspense journals recon posted, NAVs per mandate
and day (market's internal book valued at its prices and FX, and the ledger's assets plus
liabilities in base, and reporting's NAV, units and NAV per unit; a latest report whose difference
from the ledger its causes do not explain is a problem of the run), the journals announced in the
combined event log (count per kind, and by key), recon's event-log records per kind and market's
events (seq, id, kind); and dq's end state: every issue by id (kind, subject, vendor, check,
status, figures, simulated times, causes), its change feed by change number (kind, issue, status),
the values it rejected on each day end and what is quarantined at the end (rejected and last good
values and dates, issue, event), and its issues announced in the combined event log (each raised
and resolved issue once: a problem of the run otherwise); and documents' end state (run without
its model, see tests/chaos/cluster.py): for every confirmation market sent, the extraction documents
made of it (match status, fill, mismatched fields, rules broken) by extraction id, read from its
store, its document.* records in the event log per kind (each confirmation's once and its cursor
at market's head: problems of the run otherwise) and the breaks it still owes recon at the end,
beside the CONFIRMATION_MISMATCH breaks it raised among recon's breaks (dated by the confirmation,
so however late documents delivers one, recon ages it alike). A write answered with anything but
UNAVAILABLE or DEADLINE_EXCEEDED (what a client retries) while a service restarts, a service that
exits on its own, or one that does not exit 0 on SIGTERM at the end, fails the test too.

Full mode (CI=true or OPSUITE_TEST_FULL=1): 60 business days, at least 50 kills, at least 10 of
them during a write. Quick mode: 20 days, 8 kills, 3 during a write. Followers (documents the
latest) join tests/chaos/cluster.py's FOLLOWERS, and so the kills and the comparison. dq takes no
planned writes (an acknowledgement shows as a change at the next day end, so one made at another
moment of the run would change the change numbers), nor does documents (the break an uploaded
confirmation raises is dated by the simulated day documents has reached when it arrives). Run with -s to see
the kills.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from tests.chaos.cluster import SERVICES, Cluster
from tests.chaos.killer import Killer
from tests.chaos.writes import Write, assignments, land, manual_journals
from tests.support.ports import free_ports
from tests.support.run_state import RunState, compare, read_breaks, read_calendar, read_run_state
from tests.support.suites import full, scaled

SIM_SEED = 7
START = "2020-02-03"
DAYS = scaled(60, 20)
# Business days a second in the chaos run: slow enough that market's clock is still running for
# (nearly) every kill (each kill and restart takes about two seconds on a 2-core machine).
SPEED = "0.75" if full() else "1"
KILLS = scaled(50, 8)
WRITE_KILLS = scaled(10, 3)
MAX_KILLS = KILLS + 4 * WRITE_KILLS
FINISH_TIMEOUT_S = 240.0


def _sim_env(speed: str) -> dict[str, str]:
    return {
        "OPSUITE_SEED": str(SIM_SEED),
        "OPSUITE_START": START,
        "OPSUITE_DAYS": str(DAYS),
        "OPSUITE_SPEED": speed,
    }


def _chaos_seed() -> int:
    return int(os.environ.get("OPSUITE_CHAOS_SEED", "7"))


def _all(plan: dict[str, list[Write]]) -> list[Write]:
    return [write for writes in plan.values() for write in writes]


def _reference(data_dir: Path, chaos_seed: int) -> tuple[RunState, dict[str, list[Write]]]:
    """The uninterrupted run at full speed, then every planned write once; its books, and the plan."""
    started = time.monotonic()
    reference = Cluster(
        "reference", data_dir, _sim_env("max"), dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
    )
    try:
        reference.start_all()
        reference.wait_finished(FINISH_TIMEOUT_S)
        mandates, day_ends = read_calendar(reference.addresses["market"])
        # Breaks recon finds itself: one another service raises (documents) exists only once it is
        # delivered, which in the chaos run may be later than a planned write would come.
        open_at_end = [
            b.break_id
            for b in read_breaks(recon_pb2_grpc.ReconServiceStub(reference.channel("recon")))
            if b.status in (recon_pb2.BREAK_STATUS_OPEN, recon_pb2.BREAK_STATUS_INVESTIGATING)
            and not b.opened_in_run_id.startswith("RAISED-")
        ]
        plan = {
            "ledger": manual_journals(chaos_seed, mandates, [day for day, _seq in day_ends], MAX_KILLS),
            "recon": assignments(chaos_seed, open_at_end, MAX_KILLS),
        }
        for write in _all(plan):
            land(write, reference.channel(write.service), timeout=30, anomaly=reference.anomalies.append)
        expected = read_run_state(reference.addresses, reference.data_dir)
    finally:
        codes = reference.stop_all()
    print(f"reference: {time.monotonic() - started:.1f} s; {expected.summary()}")
    problems = reference.anomalies + expected.problems
    problems += [f"{name} exited {code} on SIGTERM" for name, code in codes.items() if code != 0]
    assert not problems, "the reference run itself went wrong:\n" + "\n".join(problems)
    for write in _all(plan):
        write.landed, write.answers = False, []
    return expected, plan


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_kills_at_seeded_moments_change_nothing(tmp_path: Path) -> None:
    chaos_seed = _chaos_seed()
    print(
        f"\nchaos: OPSUITE_CHAOS_SEED={chaos_seed} (simulation seed {SIM_SEED}, {START}, {DAYS} days, "
        f"speed {SPEED}; {'full' if full() else 'quick'} mode: {KILLS} kills, {WRITE_KILLS} during a write)"
    )
    expected, plan = _reference(tmp_path / "reference", chaos_seed)

    started = time.monotonic()
    chaos = Cluster(
        "chaos",
        tmp_path / "chaos",
        _sim_env(SPEED),
        dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True)),
    )
    killer = Killer(
        chaos, random.Random(chaos_seed), days=DAYS, kills=KILLS, write_kills=WRITE_KILLS, writes=plan
    )
    codes: dict[str, int] = {}
    try:
        chaos.start_all()
        killer.run(max_kills=MAX_KILLS)
        killed_s = time.monotonic() - started
        chaos.wait_finished(FINISH_TIMEOUT_S)
        finished_s = time.monotonic() - started
        # The writes no kill interrupted, so that this run too gets every planned write once.
        for write in _all(plan):
            if not write.landed:
                land(write, chaos.channel(write.service), timeout=30, anomaly=chaos.anomalies.append)
        actual = read_run_state(chaos.addresses, chaos.data_dir)
    finally:
        codes = chaos.stop_all()
        print("\n".join(killer.report()))
        for service, counts in chaos.log_digest().items():
            for message, count in counts.most_common(8):
                print(f"  {service} log: {count} x {message[:200]}")
        print(f"OPSUITE_CHAOS_SEED={chaos_seed} (data and logs under {tmp_path})")
    print(
        f"chaos: kills done at {killed_s:.1f} s, caught up at {finished_s:.1f} s, "
        f"{time.monotonic() - started:.1f} s in all; {actual.summary()}"
    )

    failures = []
    if len(killer.kills) < KILLS or killer.during_write < WRITE_KILLS:
        failures.append(
            f"only {len(killer.kills)} kills, {killer.during_write} during a write "
            f"(wanted {KILLS} and {WRITE_KILLS})"
        )
    failures += [
        f"{name} exited {code} on SIGTERM after the run" for name, code in codes.items() if code != 0
    ]
    failures += [f"anomaly: {a}" for a in chaos.anomalies]
    failures += [f"within the chaos run: {p}" for p in actual.problems]
    for section, lines in compare(expected, actual).items():
        failures.append(f"{section} differ from the reference:\n" + "\n".join(lines))
    assert not failures, f"OPSUITE_CHAOS_SEED={chaos_seed}\n" + "\n".join(failures)
