"""The platform under real gRPC instrumentation (in a subprocess: it patches grpc.aio process-wide)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
APP = pathlib.Path(__file__).with_name("instrumented_app.py")


@pytest.mark.parametrize("tls", [False, True], ids=["plaintext", "mutual-tls"])
def test_long_lived_stream_is_not_instrumented_and_unary_calls_are(tls: bool, tmp_path: pathlib.Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    result = subprocess.run(
        [sys.executable, str(APP), *([str(tmp_path)] if tls else [])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # The stream client follows market across a restart with instrumented channels.
    assert report["applied"] == list(range(1, 60))
    assert report["reconnects"] >= 1
    assert report["get_clock_code"] == "UNIMPLEMENTED"
    # One client and one server span for the unary call; none for StreamEvents, whose span
    # would last as long as the subscription; one consumer span per applied batch instead.
    assert "/opsuite.market.v1.MarketService/GetClock:CLIENT" in report["span_kinds"]
    assert "/opsuite.market.v1.MarketService/GetClock:SERVER" in report["span_kinds"]
    assert report["get_clock_traces"] == 1
    assert not any("StreamEvents" in name for name in report["spans"])
    assert "apply price.tick:CONSUMER" in report["span_kinds"]
