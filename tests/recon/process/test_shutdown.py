"""Shutting recon down with a watch open: the watch ends at once with UNAVAILABLE saying where to
resume, and recon exits 0 without waiting out its grace period (set here to ten minutes, so a
watch holding shutdown would fail the test by its timeout rather than by a clock)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import grpc

from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.common.status import details_of, status_from_error
from tests.support.processes import start_service

WORLD = {"OPSUITE_SEED": "3", "OPSUITE_START": "2020-02-03", "OPSUITE_DAYS": "3", "OPSUITE_SPEED": "max"}


def test_an_open_watch_ends_with_unavailable_and_does_not_hold_shutdown(tmp_path: Path) -> None:
    market = start_service("market", tmp_path / "market", WORLD)
    try:
        market.wait_serving()
        recon = start_service(
            "recon",
            tmp_path / "recon",
            {**WORLD, "OPSUITE_MARKET_ADDR": market.address, "OPSUITE_SHUTDOWN_GRACE_S": "600"},
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
