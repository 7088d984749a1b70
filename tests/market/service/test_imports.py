"""What market loads: the libraries of features a run may not use are imported when used, not with
the service. fpdf2 (PDF rendering, for GetConfirmation), the Redis and PostgreSQL clients (backends
other than the default SQLite) and the OTLP exporter (export, when an endpoint is configured) cost
market about 58, 21, 22 and 35 MiB resident; issue 17 asks for under 150 MiB in all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
UNUSED_LIBRARIES = ("fpdf", "redis", "psycopg", "opentelemetry.exporter.otlp.proto.grpc")


def _loaded_after(code: str, env: dict[str, str]) -> list[str]:
    """The UNUSED_LIBRARIES in sys.modules after running code in a fresh interpreter."""
    script = (
        f"{code}\nimport json, sys\nprint(json.dumps([m for m in {UNUSED_LIBRARIES!r} if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """No OTLP endpoint, no event-log URL: what a default run has."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPSUITE_", "OTEL_", "FRED_"))},
        "OPSUITE_DATA_DIR": str(tmp_path),
    }


@pytest.mark.parametrize(
    "module", ["services.market.__main__", "services.market.server", "services.market.app"]
)
def test_importing_market_loads_no_library_of_an_unused_feature(module: str, tmp_path: Path) -> None:
    assert _loaded_after(f"import {module}", _clean_env(tmp_path)) == []


def test_a_default_market_built_and_traced_loads_none_of_them(tmp_path: Path) -> None:
    """The service as `python -m services.market` builds it (settings, telemetry, the SQLite event
    log, the runtime), short of serving."""
    code = (
        "from services.common.settings import load_settings\n"
        "from services.common.telemetry import init_telemetry\n"
        "from services.market.app import build_service\n"
        "from services.market.settings import MarketSettings\n"
        "init_telemetry('market')\n"
        "build_service(load_settings(MarketSettings))"
    )
    assert _loaded_after(code, {**_clean_env(tmp_path), "OPSUITE_DAYS": "5"}) == []


def test_each_library_is_imported_where_its_feature_is_used(tmp_path: Path) -> None:
    """The other side: rendering a PDF loads fpdf2, and naming the Redis backend loads redis (the
    check that the test above could fail)."""
    code = (
        "from services.market.pdf import render_confirmation_pdf\n"
        "render_confirmation_pdf('text', title='t')\n"
        "from services.common.eventlog import RedisEventLog"
    )
    assert _loaded_after(code, _clean_env(tmp_path)) == ["fpdf", "redis"]
