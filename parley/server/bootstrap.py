"""Builds a ready-to-serve server from a project folder: model, stores, channels, actions.

This is what `parley run` does before uvicorn starts; tests and the benchmark call it too, so
they serve exactly what users get.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from parley.models import latest_model
from parley.project.errors import ProblemSink, ProjectError
from parley.project.loader import _read_mapping_file
from parley.server.app import Closer, ParleyServer, create_app
from parley.server.config import ServerConfig
from parley.server.metrics import MetricsActionRunner, MetricsEventBroker, ServerMetrics
from parley.server.runtime import AgentHolder, ServedAgent
from parley.stores.persistence import create_stores

logger = logging.getLogger(__name__)


class ServerStartError(Exception):
    """The server cannot start: no model, unreadable endpoints or credentials, bad options."""


@dataclass(frozen=True)
class ProjectFiles:
    """Where `parley run` finds its inputs (relative paths are under `project`)."""

    project: Path = Path(".")
    model: Path | None = None  # an archive, or a folder of archives (newest wins)
    endpoints: Path = Path("endpoints.yml")
    credentials: Path = Path("credentials.yml")

    def _in_project(self, path: Path) -> Path:
        return path if path.is_absolute() else self.project / path

    def model_path(self) -> Path:
        """The model archive to serve; raises ServerStartError when there is none."""
        given = self._in_project(self.model) if self.model else self.project / "models"
        if given.is_file():
            return given
        newest = latest_model(given)
        if newest is None:
            raise ServerStartError(
                f"no model found in {given}; run `parley train` first or pass --model"
            )
        return newest

    def read(self, which: Path) -> dict[str, Any] | None:
        """A mapping file (endpoints.yml, credentials.yml), or None when it does not exist."""
        path = self._in_project(which)
        if not path.is_file():
            return None
        sink = ProblemSink()
        data = _read_mapping_file(path, sink)
        if sink.has_errors:
            raise ProjectError(sink.problems)
        return _resolve_secrets(data)


def _resolve_secrets(data: dict[str, Any]) -> dict[str, Any]:
    """`${ENV}`, file and vault references resolved (when the secrets package is installed)."""
    try:
        from parley.security import resolve_secrets  # type: ignore[attr-defined]
    except ImportError:
        return data
    resolved: dict[str, Any] = resolve_secrets(data)
    return resolved


def _action_runner(endpoints: dict[str, Any]) -> Any:
    """The custom-action runner for `action_endpoint`, or None when none is configured."""
    if not endpoints.get("action_endpoint"):
        return None
    try:
        from parley.dialogue.remote import runner_from_endpoints  # type: ignore[import-not-found]
    except ImportError:
        logger.warning("action_endpoint is set but the action-server client is not installed")
        return None
    return runner_from_endpoints(endpoints)


async def build_server(files: ProjectFiles, config: ServerConfig) -> ParleyServer:
    """Open the stores, load the model and wire every configured part into one app.

    Runs in the event loop that will serve (database connections belong to their loop).
    """
    from parley.agent import Agent  # type: ignore[import-not-found]

    model = files.model_path()
    endpoints = files.read(files.endpoints) or {}
    credentials = files.read(files.credentials)
    if credentials is not None and config.credentials is None:
        config = replace(config, credentials=credentials)
    metrics = ServerMetrics()
    stores = await create_stores(endpoints, files.project.resolve())
    closers: list[Closer] = [stores.close]
    try:
        event_broker = MetricsEventBroker(metrics, stores.event_broker)
        runner = _action_runner(endpoints)
        action_runner = MetricsActionRunner(metrics, runner) if runner is not None else None
        if action_runner is not None:
            closers.insert(0, action_runner.close)

        def load(path: Path) -> ServedAgent:
            agent: ServedAgent = Agent.load(
                path,
                tracker_store=stores.tracker_store,
                lock_store=stores.lock_store,
                action_runner=action_runner,
                event_broker=event_broker,
            )
            return agent

        holder = AgentHolder(
            load(model), model, load, on_load=lambda a: metrics.set_model(a.model_id)
        )
        return create_app(holder, config, metrics, closers)
    except BaseException:
        for close in closers:
            await close()
        raise
