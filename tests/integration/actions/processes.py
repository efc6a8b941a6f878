"""Action servers as real processes: rasa-sdk (in its own virtualenv) and `parley run actions`."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.ports import free_port

REQUIREMENTS = Path(__file__).with_name("rasa-sdk-requirements.txt")


def rasa_sdk_python() -> Path:
    """The interpreter of a virtualenv with rasa-sdk, created once and reused (keyed by pins).

    Lives in $PARLEY_RASA_SDK_VENV or ~/.cache/parley/, outside the work tree, so fresh
    clones (CI) reuse it; pip's own cache makes a rebuild quick.
    """
    pins = REQUIREMENTS.read_bytes()
    key = hashlib.sha256(pins + sys.version.encode()).hexdigest()[:12]
    default = Path.home() / ".cache" / "parley" / f"venv-rasa-sdk-{key}"
    folder = Path(os.environ.get("PARLEY_RASA_SDK_VENV", default))
    python = folder / "bin" / "python"
    marker = folder / ".installed"
    folder.parent.mkdir(parents=True, exist_ok=True)
    # several test runs on one machine (other work trees) may want it at the same moment
    with open(folder.parent / f"{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text() == key:
            return python
        venv.create(folder, with_pip=True, clear=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
            check=True,
            timeout=600,
        )
        marker.write_text(key)
    return python


def wait_until_healthy(
    base_url: str, process: subprocess.Popen[bytes], log: Path, seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text(errors="replace")
            raise RuntimeError(f"action server exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{base_url}/health", timeout=0.5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"action server at {base_url} did not become healthy in {seconds}s")


@contextmanager
def action_server(
    command: list[str], cwd: Path, port: int, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run an action server process; yield its base URL; stop it afterwards.

    Its output goes to a log file beside the module (a pipe nobody reads would block it).
    """
    log = cwd / f"server-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base_url, process, log, 60)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def rasa_sdk_server(folder: Path, module: str) -> Iterator[str]:
    port = free_port()
    command = [str(rasa_sdk_python()), "-m", "rasa_sdk", "--actions", module, "--port", str(port)]
    with action_server(command, folder, port, {"SANIC_HOST": "127.0.0.1"}) as url:
        yield url


@contextmanager
def parley_actions_server(
    folder: Path, module: str, *options: str, env: dict[str, str] | None = None
) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "parley.cli.main", "run", "actions", "--actions", module]
    command += ["--port", str(port), *options]
    with action_server(command, folder, port, env) as url:
        yield url
