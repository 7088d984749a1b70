"""Shutting recon down with a call open: a watch ends at once with UNAVAILABLE saying where to
resume, a RunCheck waiting on the ledger answers UNAVAILABLE saying recon is shutting down, and
recon exits 0 without waiting out its grace period (set here to ten minutes, so a call holding
shutdown would fail the test by its timeout rather than by a clock)."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import grpc

from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.common.status import details_of, status_from_error
from tests.support.processes import start_service
from tests.support.waiting import wait_until

WORLD = {"OPSUITE_SEED": "3", "OPSUITE_START": "2020-02-03", "OPSUITE_DAYS": "3", "OPSUITE_SPEED": "max"}


def test_an_open_watch_ends_with_unavailable_and_does_not_hold_shutdown(tmp_path: Path) -> None:
    market = start_service("market", tmp_path / "market", WORLD)
    try:
        market.wait_serving()
        recon = start_service(
            "recon",
            tmp_path / "recon",
            {
                **WORLD,
                "OPSUITE_MARKET_ADDR": market.address,
                "OPSUITE_RECON_USE_LEDGER": "false",
                "OPSUITE_SHUTDOWN_GRACE_S": "600",
            },
        )
        recon.wait_serving()
        with grpc.insecure_channel(recon.address) as channel:
            watch = recon_pb2_grpc.ReconServiceStub(channel).WatchBreaks(recon_pb2.WatchBreaksRequest())
            received: list[recon_pb2.BreakChange] = []
            ended: list[grpc.RpcError] = []
            opened = threading.Event()

            def follow() -> None:
                try:
                    for change in watch:
                        received.append(change)
                        opened.set()
                except grpc.RpcError as error:
                    ended.append(error)
                finally:
                    opened.set()

            reader = threading.Thread(target=follow)
            reader.start()
            # The watch is open once its current breaks arrived; a run with no break sends none,
            # so wait for the stream to be established instead.
            grpc.channel_ready_future(channel).result(timeout=30)
            assert recon.stop(signal.SIGTERM, timeout=120) == 0
            reader.join(timeout=60)
        assert not reader.is_alive()
        [error] = ended
        assert error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
        assert "shutting down" in error.details() and "after_change_seq" in error.details()
        status = status_from_error(error)
        assert status is not None
        _, info = details_of(status)
        assert info is not None and info.reason == "SHUTTING_DOWN"
        assert int(info.metadata["after_change_seq"]) >= (received[-1].change_seq if received else 0)
    finally:
        market.stop()


def test_a_run_check_in_flight_answers_unavailable_and_does_not_hold_shutdown(tmp_path: Path) -> None:
    market = start_service("market", tmp_path / "market", WORLD)
    processes = [market]
    try:
        market.wait_serving()
        followed = {**WORLD, "OPSUITE_MARKET_ADDR": market.address}
        ledger = start_service("ledger", tmp_path / "ledger", followed)
        processes.append(ledger)
        ledger.wait_serving()
        recon = start_service(
            "recon",
            tmp_path / "recon",
            {**followed, "OPSUITE_LEDGER_ADDR": ledger.address, "OPSUITE_SHUTDOWN_GRACE_S": "600"},
        )
        processes.append(recon)
        recon.wait_serving()
        # A ledger that accepts the call and never answers: the check waits on it.
        ledger.process.send_signal(signal.SIGSTOP)
        answers: list[grpc.RpcError | recon_pb2.RunCheckResponse] = []

        def run_check() -> None:
            with grpc.insecure_channel(recon.address) as channel:
                try:
                    answers.append(
                        recon_pb2_grpc.ReconServiceStub(channel).RunCheck(
                            recon_pb2.RunCheckRequest(), timeout=120
                        )
                    )
                except grpc.RpcError as error:
                    answers.append(error)

        caller = threading.Thread(target=run_check)
        caller.start()
        wait_until(
            lambda: "checking the latest day end on demand" in recon.log_text(), what="the check to start"
        )
        asked = time.monotonic()
        assert recon.stop(signal.SIGTERM, timeout=120) == 0
        stopped_in = time.monotonic() - asked
        caller.join(timeout=60)
        assert not caller.is_alive()
        [error] = answers
        assert isinstance(error, grpc.RpcError), "the check answered while the ledger could not"
        assert error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
        assert "shutting down" in error.details() and "retry" in error.details(), error.details()
        status = status_from_error(error)
        assert status is not None
        _, info = details_of(status)
        assert info is not None and info.reason == "SHUTTING_DOWN"
        # Promptly: not after the grace period of ten minutes.
        assert stopped_in < 30, f"recon took {stopped_in:.1f} s to stop"
    finally:
        for process in processes:
            if process.name == "ledger":
                process.process.send_signal(signal.SIGCONT)
        for process in reversed(processes):
            process.stop()
