"""deploy/k8s/validate.sh, the offline validation CI runs: kustomize renders the base and each overlay,
kubernetes-validate --strict checks every object against the API's schemas. It passes on the tree
as it is and fails on a broken manifest or kustomization (each fed to it here)."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from tests.support.k8s import K8S

SCRIPT = K8S / "validate.sh"


def _validate(*args: str) -> subprocess.CompletedProcess[str]:
    # The dev dependencies' kubectl and kubernetes-validate, first on PATH, as the script's usage says.
    env = {**os.environ, "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=300, check=False, env=env
    )


def test_the_base_and_every_overlay_render_and_validate_strictly() -> None:
    result = _validate()
    assert result.returncode == 0, result.stderr
    assert [line.split()[1] for line in result.stdout.splitlines()] == [
        "base",
        "overlays-dev",
        "overlays-production",
    ]


@pytest.fixture
def copy_of_k8s(tmp_path: pathlib.Path) -> pathlib.Path:
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    return copy


def _break(path: pathlib.Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("manifest", "old", "new", "reported"),
    [
        # A misspelt field: only --strict refuses an unknown property.
        (
            "base/market.yaml",
            "imagePullPolicy: IfNotPresent",
            "imagePulPolicy: IfNotPresent",
            "'imagePulPolicy' was unexpected",
        ),
        # A wrong type.
        ("base/recon.yaml", "replicas: 1", 'replicas: "one"', "deployment/recon"),
        # A required field left out (a container's name).
        ("base/edge.yaml", "        - name: edge\n          image:", "        - image:", "deployment/edge"),
    ],
    ids=["unknown-field", "wrong-type", "missing-required-field"],
)
def test_a_broken_manifest_fails_the_validation(
    copy_of_k8s: pathlib.Path, manifest: str, old: str, new: str, reported: str
) -> None:
    _break(copy_of_k8s / manifest, old, new)
    result = _validate(str(copy_of_k8s), "base")
    assert result.returncode != 0, result.stdout
    assert reported in result.stderr
    assert "FAILED: kubernetes-validate --strict" in result.stderr


def test_a_kustomization_that_does_not_render_fails_the_validation(copy_of_k8s: pathlib.Path) -> None:
    _break(copy_of_k8s / "overlays" / "production" / "kustomization.yaml", "- pdb.yaml", "- pdbs.yaml")
    result = _validate(str(copy_of_k8s), "overlays/production")
    assert result.returncode != 0
    assert "FAILED: kubectl kustomize overlays/production" in result.stderr
