"""`parley run` as a real process for the integration tests: started on a free port in a project
folder, waited for until it serves, and stopped together with every process it started."""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.ports import free_port

PARLEY = [sys.executable, "-m", "parley.cli.main"]
START_SECONDS = 90.0
STOP_SECONDS = 60.0
LEFTOVER_SECONDS = 10.0
# Every process the server starts (workers, trainings) inherits this variable from it: how the
# helper finds them after the server stopped, even those it orphaned.
_MARK = "PARLEY_TEST_SERVER"


@dataclass
class RunningParley:
    """A started `parley run`: its base URL, its process (the supervisor, with workers) and the
    file that holds its standard output and error; `mark` is the value of _MARK it runs with."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    workers: int
    tls: ssl.SSLContext | None
    mark: str

    def wait_until_ready(self) -> None:
        """Wait until every process serves a model; with workers, also until the supervisor has
        seen them all start (a worker that dies before then stops the server).

        Raises AssertionError, with the end of the server's log, when it exits first or is not
        ready within START_SECONDS."""
        deadline = time.monotonic() + START_SECONDS
        while not self._ready():
            if self.process.poll() is not None:
                raise AssertionError(
                    f"parley run exited with {self.process.returncode}:\n{self._log_tail()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"parley run was not ready within {START_SECONDS:.0f} s:\n{self._log_tail()}"
                )
            time.sleep(0.1)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Send `sig` if the server still runs and wait for it to exit (SIGKILL after
        STOP_SECONDS), then end what it started and left running. Returns its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        _end_leftovers(self.mark)
        return self.process.returncode

    def _ready(self) -> bool:
        verify: ssl.SSLContext | bool = self.tls or True
        try:
            if self.workers == 1:
                ready = httpx.get(f"{self.url}/health/ready", verify=verify, timeout=1)
                return ready.status_code == 200
            metrics = httpx.get(f"{self.url}/metrics", verify=verify, timeout=1).text
        except httpx.HTTPError:
            return False
        supervised = f"{self.workers} workers ready" in self._log_text()
        return supervised and _serving_processes(metrics) == self.workers

    def _log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def _log_tail(self, lines: int = 40) -> str:
        return "\n".join(self._log_text().splitlines()[-lines:])


@contextmanager
def parley_run(
    project: Path,
    *flags: str,
    log: Path,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
) -> Iterator[RunningParley]:
    """Run `parley run --port <free port> [--workers N] <flags>` in `project` until the block
    ends, writing its output to `log`; yields it once ready (see `wait_until_ready`).

    `env` adds to the environment, from which the *_NUM_THREADS settings are left out: the server
    pins its native thread pools itself. With `tls` (a context that trusts the server's
    certificate) the server is reached over HTTPS. The server and every process it started are
    stopped when the block ends."""
    port = free_port()
    mark = uuid.uuid4().hex
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    environment.update(env or {})
    environment[_MARK] = mark
    command = [*PARLEY, "run", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [*command, *flags],
            cwd=project,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    server = RunningParley(url, process, log, workers, tls, mark)
    try:
        server.wait_until_ready()
        yield server
    finally:
        server.stop()


def _serving_processes(metrics: str) -> int:
    """Processes serving a model, by the summed `parley_model_info` gauge of /metrics."""
    return int(sum(float(v) for v in re.findall(r"^parley_model_info\{.*\} (\S+)$", metrics, re.M)))


def _end_leftovers(mark: str) -> None:
    """Give the processes that carry `mark` LEFTOVER_SECONDS to exit, then SIGKILL the rest
    and wait until they are gone."""
    if _gone(mark, LEFTOVER_SECONDS):
        return
    for pid in _marked(mark):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _gone(mark, LEFTOVER_SECONDS)


def _gone(mark: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _marked(mark):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _marked(mark: str) -> list[int]:
    """Running processes whose environment holds `mark` (a zombie's environment reads empty)."""
    wanted = f"{_MARK}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environment = (entry / "environ").read_bytes()
        except OSError:
            continue
        if wanted in environment.split(b"\0"):
            found.append(int(entry.name))
    return found
