"""`opsuite up` started, signalled, killed and restarted the way an operator does it, in a subprocess.

What each test asserts is what the person sees (the printed text) and what is left running
afterwards (the processes that name the supervisor in their environment, read from /proc).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import socket
import sys
from pathlib import Path

import grpc
import pytest

from opsuite.market.v1 import market_pb2, market_pb2_grpc
from opsuite.recon.v1 import recon_pb2, recon_pb2_grpc
from services.cli.registry import available_services
from services.cli.suite.preflight import LOCK_FILE
from services.cli.suite.up import _token_line
from services.common.eventlog import open_event_log
from tests.cli.conftest import RunningSuite, clean_environment, run_opsuite
from tests.cli.up_support import Up, services_of, suite_env
from tests.market.fake_fred import FakeFred, fake_fred  # noqa: F401 - the fixture
from tests.support.terminal import Terminal
from tests.support.waiting import wait_until


def _dead_pid() -> int:
    """A pid no process has: a short-lived child's, after it has been reaped."""
    import subprocess

    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _bound(sock: socket.socket, host: str, port: int) -> bool:
    try:
        sock.bind((host, port))
    except OSError:
        return False
    return True


def test_a_signal_during_start_up_stops_every_service(tmp_path: Path) -> None:
    # A year at full speed: the followers start together once market serves, and dq, which spends
    # three times the ledger's time catching up, is still at it when the ledger serves.
    up = Up.start("--speed", "max", "--days", "250", env=suite_env(tmp_path), output_path=tmp_path / "out")
    try:
        up.wait_for("✓ ledger")
        started = set(up.services().values())
        assert "all services serving" not in up.output()
        assert {"market", "ledger", "dq", "recon", "reporting", "documents"} <= started
        assert "edge" not in started  # it starts once every follower serves
        up.signal(signal.SIGTERM)
        assert up.wait(timeout=30) == 0, up.output()
        assert services_of(up.process.pid) == {}
        assert "SIGTERM: stopping every service" in up.output()
        assert "stopped during start-up" in up.output()
    finally:
        up.stop()


def test_services_exit_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    up = Up.start("--speed", "max", "--days", "250", env=suite_env(tmp_path), output_path=tmp_path / "out")
    try:
        up.wait_for("✓ market")
        assert up.services(), "market runs"
        up.signal(signal.SIGKILL)  # no chance to stop anything itself
        up.wait()
        # The kernel's parent-death signal reaches market (and ledger, if it had started) at once.
        wait_until(lambda: not services_of(up.process.pid), timeout=30, what="every service to exit")
    finally:
        up.stop()


def test_a_second_suite_on_the_same_data_directory_is_refused(finished_suite: RunningSuite) -> None:
    listening_before = (finished_suite.data_dir / "logs" / "market.log").read_text().count('"listening"')
    result = run_opsuite("up", "--no-view", env=finished_suite.env, timeout=60)
    assert result.returncode == 2
    owner = json.loads((finished_suite.data_dir / LOCK_FILE).read_text())
    assert owner["pid"] == finished_suite.process.pid
    assert f"is in use by a running suite (pid {finished_suite.process.pid}" in result.stdout
    assert "✓" not in result.stdout  # nothing was started
    listening_after = (finished_suite.data_dir / "logs" / "market.log").read_text().count('"listening"')
    assert listening_after == listening_before


def test_a_second_suite_on_taken_addresses_is_refused(finished_suite: RunningSuite, tmp_path: Path) -> None:
    env = {**finished_suite.env, "OPSUITE_DATA_DIR": str(tmp_path)}
    result = run_opsuite("up", "--no-view", env=env, timeout=60)
    assert result.returncode == 2
    market = finished_suite.addresses["market"]
    assert f"address already in use: market ({market})" in result.stdout
    assert "OPSUITE_MARKET_ADDR" in result.stdout
    assert not (tmp_path / "logs").exists()  # nothing was started


def test_opsuite_up_lets_market_take_faults(finished_suite: RunningSuite) -> None:
    """The local demo allows fault injection (market refuses it by default): a fault for a mandate the
    run does not have gets past that refusal to the check of its target, and changes nothing."""
    with grpc.insecure_channel(finished_suite.addresses["market"]) as channel:
        stub = market_pb2_grpc.MarketServiceStub(channel)
        before = stub.ListInjectedFaults(market_pb2.ListInjectedFaultsRequest(page_size=1000), timeout=10)
        request = market_pb2.InjectFaultRequest(
            kind=market_pb2.FAULT_KIND_CUSTODIAN_DROP_TRADE, mandate_id="NOPE"
        )
        with pytest.raises(grpc.RpcError) as refused:
            stub.InjectFault(request, timeout=10)
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND, refused.value.details()
        after = stub.ListInjectedFaults(market_pb2.ListInjectedFaultsRequest(page_size=1000), timeout=10)
    assert after == before


def test_the_token_line_says_how_writes_are_guarded_and_never_shows_the_token() -> None:
    secret = "a-secret-token-for-the-edge-0123456789"
    guarded = _token_line({"OPSUITE_API_TOKEN": secret})
    assert "need the API token" in guarded and "Authorization: Bearer $OPSUITE_API_TOKEN" in guarded
    assert secret not in guarded
    for env in ({}, {"OPSUITE_API_TOKEN": ""}):
        assert "are open to whoever reaches the edge" in _token_line(env)


def test_the_run_says_once_when_it_is_done(finished_suite: RunningSuite) -> None:
    with grpc.insecure_channel(finished_suite.addresses["market"]) as channel:
        clock = market_pb2_grpc.MarketServiceStub(channel).GetClock(market_pb2.GetClockRequest())
    with grpc.insecure_channel(finished_suite.addresses["recon"]) as channel:
        breaks = recon_pb2_grpc.ReconServiceStub(channel).ListBreaks(
            recon_pb2.ListBreaksRequest(top_level_only=True, page_size=1000)
        )
    open_count = sum(
        b.status in (recon_pb2.BREAK_STATUS_OPEN, recon_pb2.BREAK_STATUS_INVESTIGATING) for b in breaks.breaks
    )
    output = finished_suite.supervisor_output()
    wait_until(lambda: "done:" in finished_suite.supervisor_output(), timeout=30, what="the summary")
    output = finished_suite.supervisor_output()
    assert output.count("done:") == 1
    summary = next(line for line in output.splitlines() if line.startswith("done:"))
    assert f"done: 40 business days simulated (2020-01-02 .. {clock.sim_date.year:04d}-" in summary
    assert f"{clock.head_seq:,} market events" in summary
    assert f"breaks: {open_count:,} open, {len(breaks.breaks) - open_count:,} closed" in summary
    assert re.search(r"[\d,]+ journals posted", summary)
    assert summary.endswith("Still serving; Ctrl-C stops.")


def test_a_crashed_service_is_restarted_and_a_failing_one_given_up(tmp_path: Path) -> None:
    env = suite_env(tmp_path, OPSUITE_RESTART_LIMIT="2", OPSUITE_RESTART_BACKOFF_S="2")
    up = Up.start("--speed", "max", "--days", "10", env=env, output_path=tmp_path / "out")
    try:
        up.wait_for("all services serving")
        ledger = next(pid for pid, name in up.services().items() if name == "ledger")
        os.kill(ledger, signal.SIGKILL)
        up.wait_for("ledger serving again (restart 1)")
        assert "ledger exited with code -9" in up.output()
        assert "restarting in 2 s" in up.output()

        # Now keep it from coming back: something else takes its address the moment it dies.
        ledger = next(pid for pid, name in up.services().items() if name == "ledger")
        host, port = env["OPSUITE_LEDGER_ADDR"].split(":")
        with socket.socket() as squatter:
            os.kill(ledger, signal.SIGKILL)
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # The port is free once the kernel has closed the dead ledger's socket (the restart
            # waits 2 s, the failures after it 4 s: ample time to bind first).
            wait_until(lambda: _bound(squatter, host, int(port)), timeout=1.5, what="the ledger's port")
            squatter.listen()
            assert up.wait(timeout=120) == 1
        output = up.output()
        assert "ledger did not come back" in output
        assert "ledger failed 3 times in a row" in output and "giving up" in output
        assert str(tmp_path / "logs" / "ledger.log") in output
        assert services_of(up.process.pid) == {}
    finally:
        up.stop()


def test_fresh_lists_what_it_deletes_and_wants_yes_from_a_script(tmp_path: Path) -> None:
    env = suite_env(tmp_path)
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "ledger.sqlite3").write_bytes(b"x" * 2048)
    (tmp_path / "eventlog.sqlite3").write_bytes(b"y" * 10)
    refused = run_opsuite("up", "--fresh", "--no-view", env=env, timeout=60)
    assert refused.returncode == 2
    assert f"--fresh deletes the previous run in {tmp_path}" in refused.stdout
    assert f"{tmp_path / 'eventlog.sqlite3'} (10 bytes)" in refused.stdout
    assert f"{tmp_path / 'ledger'} (2.0 KB)" in refused.stdout
    assert "add --yes to confirm" in refused.stdout
    assert (tmp_path / "ledger" / "ledger.sqlite3").exists()  # nothing deleted

    up = Up.start("--fresh", "--yes", "--speed", "max", "--days", "3", env=env, output_path=tmp_path / "out")
    try:
        up.wait_for("done:")
        assert "deleted" in up.output()
    finally:
        up.stop()


def test_a_restart_resumes_and_says_from_where_and_another_run_is_refused(
    tmp_path: Path,
    fake_fred: FakeFred,  # noqa: F811
) -> None:
    env = suite_env(tmp_path)
    run = ("--seed", "7", "--start", "2020-01-02")
    first = Up.start("--speed", "max", "--days", "5", *run, env=env, output_path=tmp_path / "first")
    try:
        first.wait_for("done:")
    finally:
        first.stop()
    assert "resuming" not in first.output()

    other = run_opsuite("up", "--seed", "3", "--start", "2020-01-02", "--no-view", env=env, timeout=60)
    assert other.returncode == 2
    assert f"{tmp_path} holds another run (seed 7 from 2020-01-02" in other.stdout
    assert "seed 7, not 3" in other.stdout and "opsuite up --fresh" in other.stdout

    # Other data is another run too, refused before anything starts: live FRED (a local fake) whose
    # history reaches one business day further than the snapshot the run was simulated from.
    fake_fred.state.overrides["DGS10"] = {
        **fake_fred.state.observations("DGS10"),
        dt.date(2021, 1, 5): "0.95",
    }
    live = {**env, "FRED_API_KEY": fake_fred.api_key, "OPSUITE_FRED_URL": fake_fred.root_url}
    newer = run_opsuite("up", *run, "--no-view", env=live, timeout=120)
    assert newer.returncode == 2, newer.stdout + newer.stderr
    assert "data the FRED snapshot, not live FRED; data ending 2021-01-04, not 2021-01-05" in newer.stdout, (
        newer.stdout
    )

    again = Up.start("--speed", "max", "--days", "5", *run, env=env, output_path=tmp_path / "again")
    try:
        again.wait_for("resuming the run in")
        line = next(line for line in again.output().splitlines() if line.startswith("resuming"))
        assert re.search(r"seed 7 from 2020-01-02, [\d,]+ market events up to 2020-01-0\d", line), line
        again.wait_for("done:")
        # Resumed from their stored cursors with nothing new to apply, the followers still know the
        # simulated date they stand at: 5 business days from 2020-01-02 end on 2020-01-08.
        status = run_opsuite("status", "-o", "json", env=env)
        dates = {row["service"]: row["simulated_date"] for row in json.loads(status.stdout)}
        assert dates == {
            **dates,
            "market": "2020-01-08",
            "ledger": "2020-01-08",
            "dq": "2020-01-08",
            "recon": "2020-01-08",
        }
    finally:
        again.stop()


def test_a_stale_lock_is_taken_over(tmp_path: Path) -> None:
    dead = _dead_pid()
    (tmp_path / LOCK_FILE).write_text(json.dumps({"pid": dead, "started": "2026-01-01T00:00:00+00:00"}))
    up = Up.start("--speed", "max", "--days", "3", env=suite_env(tmp_path), output_path=tmp_path / "out")
    try:
        up.wait_for("done:")
        assert f"its owner (pid {dead}) is no longer running" in up.output()
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == up.process.pid
    finally:
        up.stop()
    assert not (tmp_path / LOCK_FILE).exists()  # released on the way out


def test_a_service_that_cannot_start_is_explained_in_one_sentence(tmp_path: Path) -> None:
    # A configuration file that is not there is a bad variable: refused before anything starts.
    missing = tmp_path / "no-such-recon.toml"
    env = suite_env(tmp_path, OPSUITE_RECON_CONFIG=str(missing))
    refused = run_opsuite("up", "--speed", "max", "--days", "3", "--no-view", env=env, timeout=60)
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        f"opsuite: OPSUITE_RECON_CONFIG={str(missing)!r}: give the path of an existing TOML file of "
        "recon's rules, or nothing for the defaults"
    ]
    assert not (tmp_path / "logs").exists()

    # One that is there but that recon refuses stops the start-up, explained by recon's own words.
    config = tmp_path / "recon.toml"
    config.write_text("[aging]\nbuckets = 3\n")
    env = suite_env(tmp_path, OPSUITE_RECON_CONFIG=str(config))
    result = run_opsuite("up", "--speed", "max", "--days", "3", "--no-view", env=env, timeout=180)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    failure = next(line for line in lines if line.startswith("start-up failed"))
    assert failure == "start-up failed: recon could not start: aging: unknown key(s) ['buckets']"
    assert f"its log: {tmp_path / 'logs' / 'recon.log'}" in lines
    assert "Traceback" not in result.stdout
    assert "stopped market (exit code 0)" in result.stdout and "stopped ledger (exit code 0)" in result.stdout


def test_fresh_asks_on_a_terminal_and_ctrl_c_stops_the_suite(tmp_path: Path) -> None:
    env = {**clean_environment(), **suite_env(tmp_path)}
    (tmp_path / "recon").mkdir()
    (tmp_path / "recon" / "recon.sqlite3").write_bytes(b"z" * 10)
    command = [sys.executable, "-m", "services.cli", "up", "--fresh", "--speed", "max", "--days", "3"]
    with Terminal.open(command, env=env, width=120, height=40) as terminal:
        terminal.wait_for("Delete them? [y/N]")
        terminal.type("n", "Enter")
        screen = terminal.wait_for("nothing deleted; the previous run is kept")
        assert f"{tmp_path / 'recon'} (10 bytes)" in screen
    assert (tmp_path / "recon" / "recon.sqlite3").exists()

    with Terminal.open(command, env=env, width=120, height=40) as terminal:
        terminal.wait_for("Delete them? [y/N]")
        terminal.type("y", "Enter")
        terminal.wait_for("all services serving")
        terminal.type("C-c")
        terminal.wait_for("stopped market (exit code 0)", timeout=60)
        # Printed above the live view, whose last frame can push it off a 40-line screen.
        assert "SIGINT: stopping every service" in terminal.history()
    # Deleted, then created anew by the recon that started.
    assert (tmp_path / "recon" / "recon.sqlite3").read_bytes() != b"z" * 10


def test_a_tiny_retention_never_strands_a_follower(tmp_path: Path) -> None:
    # Market keeps only 200 events, and at full speed it runs far ahead of its followers (the ledger,
    # dq, recon, reporting): without the followers' hold (opsuite up declares them,
    # OPSUITE_MARKET_FOLLOWERS) they would fall behind the retained window and stop with "events are
    # lost to this service".
    followers = [name for name in available_services() if name != "market"]
    assert followers == ["ledger", "dq", "recon", "reporting", "documents"]
    env = suite_env(tmp_path, OPSUITE_RETENTION_EVENTS="200")
    up = Up.start("--speed", "max", "--days", "15", env=env, output_path=tmp_path / "out")
    try:
        up.wait_for("done:")
        with grpc.insecure_channel(env["OPSUITE_MARKET_ADDR"]) as channel:
            stub = market_pb2_grpc.MarketServiceStub(channel)
            head = stub.GetClock(market_pb2.GetClockRequest(), timeout=10).head_seq

            def released() -> bool:
                clock = stub.GetClock(market_pb2.GetClockRequest(), timeout=10)
                held = {p.follower: p.applied_seq for p in clock.followers}
                return held == dict.fromkeys(followers, head) and clock.oldest_seq == head - 199

            # Every follower applied every event and said so; then only the last 200 are kept.
            wait_until(released, timeout=60, what="every follower to acknowledge the head")
        logs = "".join((tmp_path / "logs" / f"{name}.log").read_text() for name in followers)
        assert "older than market's retention" not in logs
    finally:
        up.stop()

    # Recon's first record was caused by market events long trimmed: its trace says so.
    log = open_event_log(None, tmp_path)
    try:
        first = next(r for r in log.read("recon", 0, 1_000) if r.caused_by)
        oldest = log.oldest("market")
    finally:
        log.close()
    assert oldest == head - 199
    trimmed = {c for c in first.caused_by if c.startswith("mkt-") and int(c.removeprefix("mkt-")) < oldest}
    assert trimmed, first
    traced = run_opsuite("trace", first.event_id, env=env)
    assert traced.returncode == 0, traced.stderr
    assert "the chain reaches past market's retention: " in traced.stdout
    assert f"which keeps market's events from seq {oldest:,}" in " ".join(traced.stdout.split())
    as_json = json.loads(run_opsuite("trace", first.event_id, "-o", "json", env=env).stdout)
    assert trimmed <= set(as_json["past_retention"])
    assert as_json["oldest_retained_seq"] == oldest
    # A fill whose events were all trimmed is not "unknown": it is past retention.
    first_fill = run_opsuite("trace", "FIL-0000001", env=env)
    assert first_fill.returncode == 1
    assert f"among the events market still keeps (from seq {oldest:,}" in " ".join(first_fill.stderr.split())


def test_the_ledger_closes_no_period_recon_still_has_to_check(tmp_path: Path) -> None:
    # The ledger keeps 15 business days and recon runs far behind it at full speed (market simulates
    # the 60 days in about a second, recon checks them over several): were the ledger to close by its
    # own date, recon would be refused the balances of the days it still checks and wait for ever. It
    # closes only what every declared follower has passed (followers_date).
    env = suite_env(tmp_path, OPSUITE_LEDGER_KEEP_DAYS="15", OPSUITE_RECON_KEEP_DAYS="15")
    up = Up.start(
        "--speed", "max", "--days", "60", "--start", "2007-10-01", env=env, output_path=tmp_path / "out"
    )
    try:
        up.wait_for("done: 60 business days simulated", timeout=300)
        status = json.loads(run_opsuite("status", "-o", "json", env=env).stdout)
        dates = {row["service"]: row["simulated_date"] for row in status}
        assert dates["recon"] == dates["market"], status
        # It does close, only never ahead of recon: at the latest once recon has caught up, as the
        # ledger looks at a held close again every few seconds.
        ledger_log = tmp_path / "logs" / "ledger.log"
        wait_until(lambda: "closed the ledger's period" in ledger_log.read_text(), timeout=60, what="a close")
    finally:
        up.stop()
    recon_log = (tmp_path / "logs" / "recon.log").read_text()
    assert "PERIOD_CLOSED" not in recon_log and "closed the period" not in recon_log
