"""`make mutate` covers every pure-domain module, and each target's tests exist.

Runs the real entry point (scripts/mutate.py --list), so a domain module added later (a
new service's domain/, a new simulation module) is under mutation testing or this fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _listed() -> dict[str, tuple[str, list[str]]]:
    output = subprocess.run(
        [sys.executable, "scripts/mutate.py", "--list"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    targets = {}
    for line in output.splitlines():
        name, module, tests = line.split("\t")
        targets[module] = (name, tests.split())
    return targets


def test_every_domain_module_is_a_mutation_target_with_existing_tests() -> None:
    targets = _listed()
    expected = {
        str(path.relative_to(ROOT))
        for pattern in (
            "services/*/domain/*.py",
            "services/market/sim/*.py",
            "services/market/sim/*/*.py",
            "services/common/convert.py",
            "services/common/calendar.py",
            "services/common/market_events/__init__.py",
        )
        for path in ROOT.glob(pattern)
        if path.name != "__init__.py" or "market_events" in path.parts
    }
    assert expected - set(targets) == set()
    assert len({name for name, _ in targets.values()}) == len(targets), "target names must be unique"
    for module, (name, tests) in targets.items():
        assert tests, f"{name} ({module}) has no tests"
        for test in tests:
            assert (ROOT / test).exists(), f"{name}: {test} does not exist"
