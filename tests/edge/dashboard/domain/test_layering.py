"""The dashboard's domain is pure: imported alone, it loads no web framework, gRPC, generated contract,
telemetry or template engine (the rule tests/contract/test_layering.py holds services/*/domain to)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
DOMAIN = ROOT / "services" / "edge" / "dashboard" / "domain"
FORBIDDEN = ("starlette", "jinja2", "grpc", "google.protobuf", "opsuite", "opentelemetry", "uvicorn", "httpx")


def _modules() -> list[str]:
    return [
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in sorted(DOMAIN.glob("*.py"))
        if path.name != "__init__.py"
    ]


def test_there_are_domain_modules() -> None:
    assert len(_modules()) >= 6


@pytest.mark.parametrize("module", _modules())
def test_a_dashboard_domain_module_is_pure(module: str) -> None:
    code = (
        f"import sys, importlib\nimportlib.import_module({module!r})\n"
        f"print([m for m in {FORBIDDEN!r} if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", f"{module} loads {result.stdout.strip()}"
