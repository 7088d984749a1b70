"""SIGKILL the ledger twice in the middle of a live run and restart it on its data: recon waits for it
at the day ends it could not compare (NOT_SERVING with the reason, RunCheck UNAVAILABLE meanwhile),
and ends with the breaks and suspense journals of a recon whose ledger never died.

One market feeds two ledgers and two recons: the victim pair (its ledger killed) and the steady pair
(compared against). Each recon posts its suspense journals to its own ledger, so a journal posted
late or with another effective date shows (two recons sharing one ledger would share one journal
per break: the idempotency key is the break's).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
from pathlib import Path

import grpc
import pytest
from google.protobuf import text_format

from opsuite.common.v1 import common_pb2, status_pb2, status_pb2_grpc
from opsuite.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.common.status import details_of, status_from_error
from tests.recon.process.unexplained import book_unexplained_fee, business_days
from tests.support.processes import ServiceProcess, start_service
from tests.support.waiting import wait_until

DAYS = 60
# The outages, in business days elapsed (kill at the first, restart at the second). Suspense holds
# only unexplained cash, so each ledger is given some before recon starts: a fee the bank never
# charged, booked on EQ-EUR (no custodian fault of EQ-EUR is open from day 6 to day 54 of seed 7
# from 2020-02-03, so nothing explains it) effective on day 34 (2020-03-20) and reversed on day 54
# (2020-04-20). recon posts it to suspense on day 37, 3 business days old, inside the first outage,
# and reverses it on day 54, inside the second; the test checks that the steady run did.
OUTAGES = ((35, 40), (52, 57))
FEE_DAY, REVERSAL_DAY = 34, 54
WORLD = {
    "OPSUITE_SEED": "7",
    "OPSUITE_START": "2020-02-03",
    "OPSUITE_DAYS": str(DAYS),
    # Two business days a second: the four followers start within the first 35 days (17 s) even
    # on a busy machine, and an outage spans five day ends (2.5 s) plus the ledger's restart.
    "OPSUITE_SPEED": "2",
}
RPC_TIMEOUT_S = 30.0


def _date(value: common_pb2.Date) -> dt.date:
    return dt.date(value.year, value.month, value.day)


def _breaks(recon: ServiceProcess) -> dict[str, str]:
    """Every break as text, its suspense journal id left out (each ledger assigns its own)."""
    with grpc.insecure_channel(recon.address) as channel:
        stub = recon_pb2_grpc.ReconServiceStub(channel)
        found, token = {}, ""
        while True:
            page = stub.ListBreaks(
                recon_pb2.ListBreaksRequest(page_size=500, page_token=token), timeout=RPC_TIMEOUT_S
            )
            for b in page.breaks:
                posted = bool(b.suspense_journal_id)
                b.ClearField("suspense_journal_id")
                found[b.break_id] = f"posted to suspense: {posted}\n{text_format.MessageToString(b)}"
            if not (token := page.next_page_token):
                return found


def _journal_ids(recon: ServiceProcess) -> dict[str, str]:
    with grpc.insecure_channel(recon.address) as channel:
        breaks = recon_pb2_grpc.ReconServiceStub(channel).ListBreaks(
            recon_pb2.ListBreaksRequest(page_size=1000), timeout=RPC_TIMEOUT_S
        )
    return {b.break_id: b.suspense_journal_id for b in breaks.breaks if b.suspense_journal_id}


def _suspense(ledger: ServiceProcess) -> list[ledger_pb2.Journal]:
    with grpc.insecure_channel(ledger.address) as channel:
        return list(
            ledger_pb2_grpc.LedgerServiceStub(channel)
            .GetLedger(
                ledger_pb2.GetLedgerRequest(kind=ledger_pb2.JOURNAL_KIND_SUSPENSE, page_size=1000),
                timeout=RPC_TIMEOUT_S,
            )
            .journals
        )


def _journal_text(journal: ledger_pb2.Journal) -> str:
    """What an uninterrupted run decides about a suspense journal: not its id, time or ledger order."""
    view = ledger_pb2.Journal()
    view.CopyFrom(journal)
    for field in ("journal_id", "posted_at", "ledger_seq", "sim_time"):
        view.ClearField(field)
    return text_format.MessageToString(view)


def _status(process: ServiceProcess) -> status_pb2.ServiceStatus:
    with grpc.insecure_channel(process.address) as channel:
        return status_pb2_grpc.StatusServiceStub(channel).GetStatus(
            status_pb2.GetStatusRequest(), timeout=RPC_TIMEOUT_S
        )


def _restart(name: str, data_dir: Path, env: dict[str, str], address: str) -> ServiceProcess:
    """Start a killed service again on its address and data (a second try if the port is not free yet)."""
    for _ in range(3):
        process = start_service(name, data_dir, env, address=address)
        if process.wait_listening(timeout=120):
            return process
        process.stop()
    raise AssertionError(f"{name} did not listen again on {address}:\n{process.log_text()[-3000:]}")


@pytest.mark.slow
def test_a_ledger_killed_mid_run_changes_no_break_and_no_suspense_journal(tmp_path: Path) -> None:
    market = start_service("market", tmp_path / "market", WORLD)
    processes = [market]
    try:
        market.wait_serving()
        followed = {**WORLD, "OPSUITE_MARKET_ADDR": market.address}
        ledgers = {
            name: start_service("ledger", tmp_path / f"{name}-ledger", followed)
            for name in ("steady", "victim")
        }
        processes += ledgers.values()
        recons = {}
        days = business_days(dt.date.fromisoformat(WORLD["OPSUITE_START"]), DAYS)
        for name, ledger in ledgers.items():
            book_unexplained_fee(
                ledger, "EQ-EUR", "EUR", "2500.00", days[FEE_DAY - 1], reversed_on=days[REVERSAL_DAY - 1]
            )
            recons[name] = start_service(
                "recon", tmp_path / f"{name}-recon", {**followed, "OPSUITE_LEDGER_ADDR": ledger.address}
            )
            processes.append(recons[name])
        for process in [*ledgers.values(), *recons.values()]:
            process.wait_serving()
        victim_dir, victim_address = tmp_path / "victim-ledger", ledgers["victim"].address
        recon = recons["victim"]

        outage_dates: list[tuple[dt.date, dt.date]] = []
        reasons: set[str] = set()
        refusals: list[grpc.RpcError | recon_pb2.RunCheckResponse] = []
        breaks_around_refusal: list[dict[str, str]] = []
        with grpc.insecure_channel(market.address) as channel:
            clock = market_pb2_grpc.MarketServiceStub(channel)

            def now() -> market_pb2.Clock:
                return clock.GetClock(market_pb2.GetClockRequest(), timeout=RPC_TIMEOUT_S)

            def noted_until(day: int) -> bool:
                """Day `day` reached; meanwhile, note why recon is not serving."""
                status = _status(recon)
                if not status.serving:
                    reasons.add(status.not_serving_reason)
                return now().business_days_elapsed >= day

            for n, (kill_day, restart_day) in enumerate(OUTAGES):
                wait_until(
                    lambda d=kill_day: now().business_days_elapsed >= d, timeout=120, what=f"day {kill_day}"
                )
                killed = now()
                assert killed.running, (
                    f"the market finished before the ledger could be killed on day {kill_day}"
                )
                ledgers["victim"].stop(signal.SIGKILL)
                # Day ends pass: recon cannot compare them and waits (GetStatus says why, asserted below).
                wait_until(lambda d=kill_day + 2: noted_until(d), timeout=120, what=f"day {kill_day + 2}")
                if n == 0:
                    # An on-demand check meanwhile is refused and changes nothing.
                    breaks_around_refusal.append(_breaks(recon))
                    with grpc.insecure_channel(recon.address) as rc:
                        try:
                            refusals.append(
                                recon_pb2_grpc.ReconServiceStub(rc).RunCheck(
                                    recon_pb2.RunCheckRequest(), timeout=RPC_TIMEOUT_S
                                )
                            )
                        except grpc.RpcError as error:
                            refusals.append(error)
                    breaks_around_refusal.append(_breaks(recon))
                wait_until(lambda d=restart_day: noted_until(d), timeout=120, what=f"day {restart_day}")
                ledgers["victim"] = _restart("ledger", victim_dir, followed, victim_address)
                processes.append(ledgers["victim"])
                outage_dates.append((_date(killed.sim_date), _date(now().sim_date)))
                ledgers["victim"].wait_serving()
                recon.wait_serving()
            last = wait_until(lambda: (c := now()) and not c.running and c, timeout=120, what="the last day")

        def checked_last_day(process: ServiceProcess) -> bool:
            with grpc.insecure_channel(process.address) as rc:
                summary = recon_pb2_grpc.ReconServiceStub(rc).GetReconciliation(
                    recon_pb2.GetReconciliationRequest(), timeout=RPC_TIMEOUT_S
                )
            return summary.as_of_date == last.sim_date

        for process in recons.values():
            wait_until(
                lambda p=process: checked_last_day(p), timeout=120, what="recon to check the last day end"
            )
        with contextlib.suppress(AssertionError):  # the assertion below shows the difference
            wait_until(
                lambda: _breaks(recons["steady"]) == _breaks(recon), timeout=30, what="the same breaks"
            )

        # The same breaks: ids, kinds, first-seen and last-seen dates, ages, statuses, escalation, runs.
        expected = _breaks(recons["steady"])
        assert _breaks(recon) == expected
        # The same suspense journals (effective date, amounts, memo, key), once each, in each ledger.
        journals = {name: _suspense(ledger) for name, ledger in ledgers.items()}
        by_key = {
            name: {j.idempotency_key: _journal_text(j) for j in found} for name, found in journals.items()
        }
        assert by_key["victim"] == by_key["steady"]
        for name in ("steady", "victim"):
            assert len(journals[name]) == len(by_key[name]), (
                f"a break version posted twice to the {name} ledger"
            )
            # each break records its latest journal (the highest version)
            latest = {
                j.caused_by[0]: j.journal_id for j in sorted(journals[name], key=lambda j: j.idempotency_key)
            }
            assert _journal_ids(recons[name]) == latest

        # The outages were where it matters: the posting and the reversal were due inside them.
        assert len(expected) >= 3, "the run should raise breaks"
        due = sorted(_date(j.effective_date) for j in journals["steady"])
        assert due == [days[FEE_DAY - 1 + 3], days[REVERSAL_DAY - 1]], due
        assert all(any(start < day <= end for start, end in outage_dates) for day in due), (due, outage_dates)
        # While the ledger was down recon said why, and refused an on-demand check, changing nothing.
        assert any(r.startswith("waiting for the ledger to book market seq ") for r in reasons), reasons
        assert any("UNAVAILABLE" in r for r in reasons), reasons
        [refusal] = refusals
        assert isinstance(refusal, grpc.RpcError), "RunCheck ran while the ledger could not answer"
        assert refusal.code() == grpc.StatusCode.UNAVAILABLE, refusal.details()
        assert "ledger" in refusal.details() and "UNAVAILABLE" in refusal.details(), refusal.details()
        status = status_from_error(refusal)
        assert status is not None
        _, info = details_of(status)
        assert info is not None and info.reason == "LEDGER_UNAVAILABLE"
        assert breaks_around_refusal[0] == breaks_around_refusal[1]
        assert _status(recon).serving
    finally:
        for process in reversed(processes):
            process.stop()
