"""The image's entry commands, run outside a container (no container runtime runs in CI):
the server target's `parley run ...` and the actions target's `parley run actions ...` start,
answer their health routes, and the image's HEALTHCHECK command says healthy."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

import httpx
import pytest

from tests.action_runners.support import BANKBOT, parley_copy_of_bank_actions
from tests.deploy.dockerfile import Stage, instructions, stages
from tests.integration.conftest import TrainedModel
from tests.ports import free_port

pytestmark = pytest.mark.integration


def as_run_here(stage: Stage, project: Path, port: int) -> list[str]:
    """The stage's command with the container's paths, address and port swapped for ours."""
    swap = {"/app": str(project), "0.0.0.0": "127.0.0.1", stage.env["PARLEY_PORT"]: str(port)}
    command = [swap.get(arg, arg) for arg in stage.entrypoint + stage.cmd]
    assert command[0] == "parley"
    return [sys.executable, "-m", "parley.cli.main", *command[1:]]


def healthy_within(
    stage: Stage, port: int, process: subprocess.Popen[bytes], seconds: float
) -> None:
    url = f"http://127.0.0.1:{port}{stage.env['PARLEY_HEALTH_PATH']}"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the entry command exited with {process.returncode}"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200 within {seconds}s")


def run_stage(stage: Stage, cwd: Path, project: Path) -> None:
    port = free_port()
    image_env = {k: v for k, v in stage.env.items() if k != "PATH"}  # PATH: this machine's
    env = {**os.environ, **image_env, "PARLEY_PORT": str(port), "HOME": str(cwd)}
    env["MPLCONFIGDIR"] = str(cwd / "matplotlib")
    log = cwd / f"{stage.name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            as_run_here(stage, project, port),
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        try:
            healthy_within(stage, port, process, 90)
        except AssertionError:
            raise AssertionError(log.read_text(errors="replace")) from None
        check = [sys.executable if a == "python" else a for a in stage.healthcheck]
        assert subprocess.run(check, env=env, timeout=30).returncode == 0
    finally:
        process.terminate()
        process.wait(15)
    # the HEALTHCHECK fails once nothing answers
    assert subprocess.run(check, env=env, capture_output=True, timeout=30).returncode != 0


def test_server_target_entry_command_serves_health(
    tmp_path: Path, trained_model: TrainedModel
) -> None:
    project = tmp_path / "app"
    shutil.copytree(BANKBOT, project)
    (project / "endpoints.yml").write_text("tracker_store:\n  type: in_memory\n")
    (project / "models").mkdir()
    shutil.copy(trained_model(BANKBOT), project / "models")
    run_stage(stages()["server"], tmp_path, project)


def test_actions_target_entry_command_serves_health(tmp_path: Path) -> None:
    module = parley_copy_of_bank_actions(tmp_path, "actions")  # the image's default module
    assert (tmp_path / f"{module}.py").exists()
    run_stage(stages()["actions"], tmp_path, tmp_path)


def test_the_dockerfiles_sbom_command_lists_a_virtualenvs_packages(tmp_path: Path) -> None:
    """The command the build stage runs, on a small virtualenv (the shared one takes 40 s)."""
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    (run,) = [r for w, r in instructions() if w == "RUN" and "cyclonedx-py" in r]
    command = shlex.split(run[run.index("/opt/sbom/bin/cyclonedx-py") :])
    swap = {
        "/opt/sbom/bin/cyclonedx-py": shutil.which("cyclonedx-py")
        or str(Path(sys.executable).with_name("cyclonedx-py")),
        "/opt/parley/sbom.cdx.json": str(tmp_path / "sbom.cdx.json"),
        "/opt/parley/bin/python": str(target / "bin" / "python"),
    }
    subprocess.run([swap.get(a, a) for a in command], check=True, timeout=120, capture_output=True)
    sbom = json.loads((tmp_path / "sbom.cdx.json").read_text())
    assert sbom["bomFormat"] == "CycloneDX"
    assert "pip" in {c["name"] for c in sbom["components"]}
