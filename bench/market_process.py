"""A real market process for the benchmarks: `python -m services.market` on a free port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_market(data_dir: Path, settings: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """Start market at full speed with `settings` (OPSUITE_* variables) over a clean environment;
    returns the process and its address once it listens."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_", "FRED_"))},
        "OPSUITE_DATA_DIR": str(data_dir),
        "OPSUITE_MARKET_ADDR": "127.0.0.1:0",
        "OPSUITE_SPEED": "max",
        **settings,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "services.market"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    assert process.stderr is not None
    for raw in process.stderr:
        line = json.loads(raw)
        if line.get("message") == "listening":
            return process, line["address"]
    raise RuntimeError("market exited before listening")
