"""The checked-in generated code under gen/ is exactly what the protos produce."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
GEN = ROOT / "gen" / "opsuite"


def _files(root: pathlib.Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_generated_code_is_fresh(tmp_path: pathlib.Path) -> None:
    # sys.executable is the venv's python when the suite runs as .venv/bin/pytest.
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_protos.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"gen_protos.py failed:\n{result.stdout}\n{result.stderr}"
    fresh = _files(tmp_path / "opsuite")
    checked_in = _files(GEN)
    assert fresh, "gen_protos.py produced nothing"
    missing = sorted(fresh.keys() - checked_in.keys())
    extra = sorted(checked_in.keys() - fresh.keys())
    stale = sorted(name for name in fresh.keys() & checked_in.keys() if fresh[name] != checked_in[name])
    assert not (missing or extra or stale), (
        "gen/ is stale: run make protos (scripts/gen_protos.py) and commit the result. "
        f"missing from gen/: {missing}; not generated any more: {extra}; different: {stale}"
    )
