"""What may depend on what, checked on the source so a new module inherits the rules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"


def _imports_and_names(path: Path) -> tuple[set[str], set[str]]:
    """Modules a file imports, and every attribute or name it mentions."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    imports: set[str] = set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imports.add(node.module)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
    return imports, names


def _service_files() -> list[Path]:
    """Every module of a service that is not market itself, the scorers or the command line."""
    return [
        path
        for path in SERVICES.rglob("*.py")
        if path.relative_to(SERVICES).parts[0] not in {"market", "scoring", "cli"}
    ]


def test_no_service_reads_the_faults_market_injected() -> None:
    """Only scorers and tests read market's ground truth: a service must find faults itself."""
    offenders = []
    for path in _service_files():
        imports, names = _imports_and_names(path)
        if "ListInjectedFaults" in names or any(m.startswith("services.scoring") for m in imports):
            offenders.append(str(path.relative_to(ROOT)))
        if any(m.startswith("services.market.sim.faults") for m in imports):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_check_sees_a_call_to_list_injected_faults(tmp_path: Path) -> None:
    # The rule above must be able to fail: a servicer calling the RPC is caught.
    source = tmp_path / "cheat.py"
    source.write_text("async def f(stub):\n    return await stub.ListInjectedFaults(None)\n")
    assert "ListInjectedFaults" in _imports_and_names(source)[1]


def test_no_test_imports_the_benchmarks() -> None:
    offenders = []
    for path in (ROOT / "tests").rglob("*.py"):
        imports, _ = _imports_and_names(path)
        if any(m == "bench" or m.startswith("bench.") for m in imports):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


FORBIDDEN_IN_DOMAIN = (
    "grpc",
    "google.protobuf",
    "opsuite",  # the generated contract
    "opentelemetry",
    "psycopg",
    "redis",
    "sqlite3",
    "services.common.telemetry",
    "fpdf",  # rendering documents is I/O on a library: services/market/pdf.py
    "fredapi",  # fetching FRED is network I/O: services/market/fred.py
    "urllib.request",
)


def _domain_modules() -> list[str]:
    paths = [*SERVICES.glob("*/domain/*.py"), *SERVICES.glob("market/sim/**/*.py")]
    # The NAV shared by reporting and market (which charges its fees on it) is domain too.
    paths += [*SERVICES.glob("common/nav/*.py")]
    paths += [SERVICES / "common" / "market_events" / "__init__.py", SERVICES / "common" / "calendar.py"]
    modules = []
    for path in sorted(paths):
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


@pytest.mark.parametrize("module", _domain_modules())
def test_a_domain_module_imports_no_grpc_contract_telemetry_or_storage(module: str) -> None:
    """Imported alone in a fresh interpreter, directly or through what it imports."""
    code = (
        f"import sys, importlib\nimportlib.import_module({module!r})\n"
        f"print([m for m in {FORBIDDEN_IN_DOMAIN!r} if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", f"{module} loads {result.stdout.strip()}"
