"""Regenerate the Python code of the contract under gen/ from protos/.

Run with `make protos`. tests/contract/test_generated_fresh.py fails when the
checked-in code differs from what this script produces.
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import sys
import tempfile

import google.api
import grpc_tools
from grpc_tools import protoc

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
GEN = ROOT / "gen"
BIN = pathlib.Path(sys.executable).parent


def generate(out_dir: pathlib.Path) -> None:
    """Compile every .proto under protos/ into out_dir, with type stubs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    well_known = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    googleapis = pathlib.Path(google.api.__path__[0]).parent.parent
    files = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    args = [
        "grpc_tools.protoc",
        f"-I{PROTOS}",
        f"-I{well_known}",
        f"-I{googleapis}",
        f"--plugin=protoc-gen-mypy={BIN / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={BIN / 'protoc-gen-mypy_grpc'}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        f"--mypy_out={out_dir}",
        f"--mypy_grpc_out={out_dir}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    # Every generated folder is a regular package so setuptools and mypy find it.
    for folder in [out_dir / "opsuite", *(p for p in (out_dir / "opsuite").rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=pathlib.Path, default=GEN)
    args = parser.parse_args()
    if args.out == GEN:
        with tempfile.TemporaryDirectory() as tmp:
            generate(pathlib.Path(tmp))
            shutil.rmtree(GEN / "opsuite", ignore_errors=True)
            shutil.copytree(pathlib.Path(tmp) / "opsuite", GEN / "opsuite")
    else:
        generate(args.out)
    print(f"generated {sum(1 for _ in (args.out / 'opsuite').rglob('*.py'))} files under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
