"""`parley run --workers N`: N server processes on one port, supervised by the first.

One Python process serves on one core (the GIL); a host with more cores runs several. The
supervisor imports the heavy libraries once, freezes them out of the garbage collector and forks
the workers, so their memory pages stay shared. Each worker has its own listening socket on the
same address (SO_REUSEPORT: the kernel spreads connections evenly; a shared socket lets one busy
worker take a burst of connections alone). The sockets stay open in the supervisor, so a worker
that dies is replaced on the same socket without refusing connections meanwhile.

What the workers share lives outside them: the tracker store (SQL or Redis), the conversation
locks (a lock file or Redis), Prometheus values (`prometheus_client`'s multiprocess files) and
the served model (`ModelPointer`: a swap in one worker is followed by the others).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import logging
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from parley.server.process import freeze_loaded, pin_native_threads
from parley.server.runtime import AgentHolder, ModelSwapError

logger = logging.getLogger("parley.server")

CRASH_WINDOW_SECONDS = 10.0  # a worker that dies this soon after starting counts as crashing
MAX_CRASHES = 3  # crashes in a row before the supervisor gives up
STOP_TIMEOUT_SECONDS = 15.0
_PR_SET_PDEATHSIG = 1  # prctl(2)


class WorkersError(RuntimeError):
    """The workers cannot be started (address in use, worker failing at start)."""


@dataclass(frozen=True)
class Worker:
    """What a forked worker is told: its number, its socket and how to say it is ready."""

    index: int
    socket: socket.socket
    ready_fd: int

    def ready(self) -> None:
        """Tell the supervisor this worker serves (call once, after it listens)."""
        with contextlib.suppress(OSError):
            os.write(self.ready_fd, bytes([self.index % 256]))


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` sockets listening on host:port together (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.listen(2048)
            sock.set_inheritable(True)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise WorkersError(f"{host}:{port} is already in use by another program") from None
        raise WorkersError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sockets


class Supervisor:
    """Forks the workers, replaces those that die, and stops them all on SIGTERM/SIGINT."""

    def __init__(
        self,
        sockets: list[socket.socket],
        run_worker: Callable[[Worker], int],
        on_worker_exit: Callable[[int], None] = lambda pid: None,
    ) -> None:
        self.sockets = sockets
        self.run_worker = run_worker
        self.on_worker_exit = on_worker_exit
        self.pids: dict[int, int] = {}  # pid -> worker index
        self.started: dict[int, float] = {}  # worker index -> when its process started
        self.crashes: dict[int, int] = {}
        self.stopping = False
        self.supervisor_pid = os.getpid()
        self._ready_read, self._ready_write = os.pipe()

    def run(self, started: float) -> int:
        """Serve until told to stop; the exit status (0 after a clean stop)."""
        pin_native_threads()  # before forking: the workers start with pools of one thread
        freeze_loaded()  # what is loaded now stays shared with the workers (no GC writes to it)
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for index in range(len(self.sockets)):
                self._spawn(index)
            self._wait_ready(started)
            return self._supervise()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._stop_all()
            os.close(self._ready_read)
            os.close(self._ready_write)

    def _spawn(self, index: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            status = 1
            try:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)
                self.pids.clear()  # the supervisor's, not this worker's to signal
                _stop_with_parent(self.supervisor_pid)
                os.close(self._ready_read)
                for other, sock in enumerate(self.sockets):
                    if other != index:
                        sock.close()
                status = self.run_worker(Worker(index, self.sockets[index], self._ready_write))
            except BaseException:
                logger.exception("worker %d failed", index)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)
        self.pids[pid] = index
        self.started[index] = time.monotonic()

    def _wait_ready(self, started: float) -> None:
        waiting = set(range(len(self.sockets)))
        while waiting and not self.stopping:
            readable, _, _ = select.select([self._ready_read], [], [], 0.2)
            if readable:
                waiting -= set(os.read(self._ready_read, 64))
            self._reap_before_ready()
        if not self.stopping:
            seconds = time.perf_counter() - started
            logger.info(
                "%d workers ready in %.2f s",
                len(self.sockets),
                seconds,
                extra={"start_seconds": round(seconds, 3), "workers": len(self.sockets)},
            )

    def _reap_before_ready(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            index = self.pids.pop(pid, None)
            self.on_worker_exit(pid)
            raise WorkersError(
                f"worker {index} exited with status {os.waitstatus_to_exitcode(status)} "
                "before it was ready (its log above says why)"
            )

    def _supervise(self) -> int:
        while self.pids:
            try:
                pid, status = os.waitpid(-1, 0)
            except InterruptedError:
                continue
            except ChildProcessError:
                break
            index = self.pids.pop(pid, None)
            self.on_worker_exit(pid)
            if index is None or self.stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            lived = time.monotonic() - self.started.get(index, 0.0)
            self.crashes[index] = (
                self.crashes.get(index, 0) + 1 if lived < CRASH_WINDOW_SECONDS else 1
            )
            if self.crashes[index] >= MAX_CRASHES:
                logger.error("worker %d keeps failing (status %d); stopping", index, code)
                self.stopping = True
                return 1  # `run` stops the other workers
            logger.warning(
                "worker %d (pid %d) exited with status %d; starting a new one", index, pid, code
            )
            self._spawn(index)
        return 0

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        for pid in list(self.pids):
            _signal(pid, signal.SIGTERM)

    def _stop_all(self) -> None:
        for pid in list(self.pids):
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while self.pids and time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.05)
                continue
            self.pids.pop(pid, None)
            self.on_worker_exit(pid)
        for pid in list(self.pids):  # did not stop in time
            _signal(pid, signal.SIGKILL)
            self.pids.pop(pid, None)


def _stop_with_parent(parent: int) -> None:
    """Have the kernel send this worker SIGTERM if the supervisor dies, even by SIGKILL (on
    Linux; elsewhere workers outlive a killed supervisor)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the supervisor died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


@dataclass(frozen=True)
class ModelPointer:
    """The model the workers serve, in a file they all watch: a swap in one worker writes it,
    the others load the same model when they see it change."""

    path: Path

    def write(self, model: Path) -> None:
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(str(model), "utf-8")
        os.replace(temporary, self.path)  # atomic: readers see the old or the new path

    def read(self) -> tuple[Path, int] | None:
        """(model path, change stamp) or None before any swap."""
        try:
            stamp = self.path.stat().st_mtime_ns
            return Path(self.path.read_text("utf-8").strip()), stamp
        except (OSError, ValueError):
            return None


async def follow_model(holder: AgentHolder, pointer: ModelPointer, interval: float = 1.0) -> None:
    """Serve the model the pointer names whenever it changes (run as a task in each worker)."""
    seen: int | None = None
    while True:
        current = pointer.read()
        if current is not None and current[1] != seen:
            seen = current[1]
            model, _ = current
            served = holder.model_path.resolve() if holder.model_path else None
            if model != served:
                try:
                    await holder.swap(model)
                except ModelSwapError as exc:
                    logger.error("cannot follow the model swap of another worker: %s", exc)
        await asyncio.sleep(interval)
