"""Builds a ready-to-serve server from a project folder: model, stores, channels, actions.

This is what `parley run` does before uvicorn starts; tests and the benchmark call it too, so
they serve exactly what users get.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.access.settings import AccessSettings
from parley.dialogue.custom import CustomActionRunner
from parley.models import latest_model
from parley.models.registry import PRODUCTION
from parley.models.service import Releases, open_releases
from parley.observability.operations import Operations
from parley.project.endpoints import Endpoints
from parley.security import ProjectSecrets
from parley.security.config import CREDENTIALS_FILE
from parley.server.app import Closer, ParleyServer, create_app
from parley.server.channels.base import ChannelContext
from parley.server.config import ServerConfig
from parley.server.metrics import MetricsActionRunner, MetricsEventBroker, ServerMetrics
from parley.server.process import release_replaced
from parley.server.rollout_api import rollout_router
from parley.server.rollout_router import RolloutRouter
from parley.server.runtime import AgentHolder, ServedAgent
from parley.stores.errors import StoreConfigError
from parley.stores.factory import DEFAULT_LOCK_FILE
from parley.stores.file_lock import FileLockStore
from parley.stores.memory import InMemoryLockStore, InMemoryTrackerStore
from parley.stores.persistence import Stores, create_stores

if TYPE_CHECKING:
    from parley.access.service import Access
    from parley.studio.service import Studio
    from parley.studio.share import Sharing

logger = logging.getLogger(__name__)
ROLLOUT_CACHE = ".parley/models"  # registered archives fetched for a rollout

AUDIT_SENDER = "parley-audit"  # the conversation id audit rows are published under


class ServerStartError(Exception):
    """The server cannot start: no model, unreadable endpoints or credentials, bad options."""


@dataclass(frozen=True)
class ProjectFiles:
    """Where `parley run` finds its inputs (relative paths are under `project`)."""

    project: Path = Path(".")
    model: Path | None = None  # an archive, or a folder of archives (newest wins)
    endpoints: Path | None = None  # default: endpoints.yml
    credentials: Path | None = None  # default: credentials.yml

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

    def secrets(self) -> ProjectSecrets:
        """Reads endpoints/credentials/parley.yml with `${...}` references resolved."""
        return ProjectSecrets(self.project, endpoints_file=self.endpoints)

    def read_endpoints(self, secrets: ProjectSecrets) -> Endpoints:
        """endpoints.yml read once: references resolved, sections checked and typed."""
        return Endpoints.parse(secrets.endpoints())

    def read_credentials(self, secrets: ProjectSecrets) -> dict[str, Any] | None:
        """credentials.yml resolved, or None when the project has none (default channels)."""
        path = self._in_project(self.credentials or Path(CREDENTIALS_FILE))
        if not path.is_file():
            if self.credentials is not None:
                raise ServerStartError(f"credentials file {path} does not exist")
            return None
        return secrets.load(path.resolve())


def _action_runner(endpoints: Endpoints, project: Path) -> CustomActionRunner | None:
    """The custom-action runner for `action_endpoint` (HTTP or in-process), or None."""
    from parley.action_runners import create_action_runner

    return create_action_runner(endpoints, project)


async def _shared_by_workers(stores: Stores, project: Path) -> Stores:
    """The stores, fit for several worker processes: in-process locks become a lock file;
    an in-memory tracker store cannot be shared at all."""
    if isinstance(stores.tracker_store, InMemoryTrackerStore):
        raise StoreConfigError(
            "endpoints.yml: tracker_store: an in_memory store lives in one process; with "
            "--workers use sql (the default SQLite file) or redis"
        )
    if not isinstance(stores.lock_store, InMemoryLockStore):
        return stores
    await stores.lock_store.close()
    path = project / DEFAULT_LOCK_FILE
    logger.info("workers share conversation locks through %s", path)
    return replace(stores, lock_store=FileLockStore(path))


async def _open_stores(endpoints: Endpoints, project: Path, config: ServerConfig) -> Stores:
    """The configured stores, made fit for `config.workers` processes (closed on failure)."""
    stores = await create_stores(endpoints, project)
    if config.workers == 1:
        return stores
    try:
        return await _shared_by_workers(stores, project)
    except BaseException:
        await stores.close()
        raise


async def open_access(
    settings: AccessSettings | None, project: Path, stores: Stores
) -> Access | None:
    """Users, sessions, tokens and audit from parley.yml `access:` (None when absent). Audit rows
    go to the event broker too when `access.audit.publish` is set and a broker is configured."""
    if settings is None:
        return None
    from parley.access.service import Access

    broker = stores.event_broker

    async def publish(row: dict[str, Any]) -> None:
        if broker is not None:
            await broker.publish(AUDIT_SENDER, [{"event": "audit", "timestamp": row["at"], **row}])

    return await Access.open(settings, project, publish if broker is not None else None)


def open_studio(
    access: Access | None, stores: Stores, project: Path, endpoints: Path | None = None
) -> Studio | None:
    """The studio at /studio: it needs users (parley.yml `access:`) and conversations in SQL.
    Behind PII redaction (`pii.apply_to: [tracker_store]`) it reads the SQL store itself, whose
    rows hold the redacted events. `endpoints` (`--endpoints`) names the registry the studio's
    trainings register in."""
    from parley.observability.redacting import RedactingTrackerStore
    from parley.stores.sql import SQLTrackerStore

    if access is None:
        return None
    store = stores.tracker_store
    if isinstance(store, RedactingTrackerStore):
        store = store.inner
    if not isinstance(store, SQLTrackerStore):
        logger.info("no studio at /studio: it reads conversations from a sql tracker store")
        return None
    from parley.studio.service import Studio

    return Studio(store, project, access, endpoints=endpoints)


def open_sharing(
    studio: Studio, holder: AgentHolder, releases: Releases, context: ChannelContext, project: Path
) -> Sharing:
    """Guest links (/studio/share): their table beside the conversations, the registry's
    versions they can pin (loaded beside the served model on first use), the channel path."""
    from parley.server.version_agents import VersionAgents
    from parley.studio.share import ShareLinks, Sharing

    agents = VersionAgents(holder, releases.registry, project / ROLLOUT_CACHE)
    settings = studio.access.settings.share
    return Sharing(ShareLinks(studio.engine), agents, context, settings, studio.access.key)


async def check_stores(files: ProjectFiles, config: ServerConfig) -> None:
    """Open (migrating if needed) and close the configured stores, as workers will use them."""
    endpoints = files.read_endpoints(files.secrets())
    stores = await _open_stores(endpoints, files.project.resolve(), config)
    await stores.close()


async def _production_model(releases: Releases, project: Path) -> Path | None:
    """The archive of the version tagged `production` in the registry, if one is."""
    try:
        version = await releases.registry.tagged(PRODUCTION)
        if version is None:
            return None
        logger.info(
            "serving model %s, tagged production in the registry (not the newest in models/: "
            "release a newer one with `parley rollout`, or pass --model)",
            version,
        )
        return await releases.registry.fetch(version, project / ROLLOUT_CACHE)
    except Exception:
        logger.exception("cannot fetch the production model; serving the newest in models/")
        return None


async def _follow_rollout(
    holder: AgentHolder, releases: Releases, project: Path, stores: Stores
) -> RolloutRouter:
    """The rollout state this replica follows (see `parley rollout`)."""
    router = RolloutRouter(
        holder, releases, project / ROLLOUT_CACHE, tracker_store=stores.tracker_store
    )
    try:
        await router.refresh()  # a rollout in force applies from the first message
    except Exception:
        logger.exception("cannot read the rollout state at start; serving the model alone")
    holder.router = router
    return router


async def build_server(files: ProjectFiles, config: ServerConfig) -> ParleyServer:
    """Open the stores, load the model and wire every configured part into one app.

    Runs in the event loop that will serve (database connections belong to their loop).
    """
    secrets = files.secrets()
    endpoints = files.read_endpoints(secrets)
    project = files.project.resolve()
    releases = await open_releases(endpoints, project)
    try:
        return await _assemble(files, config, secrets, endpoints, project, releases)
    except BaseException:
        await releases.close()
        raise


async def _assemble(
    files: ProjectFiles,
    config: ServerConfig,
    secrets: ProjectSecrets,
    endpoints: Endpoints,
    project: Path,
    releases: Releases,
) -> ParleyServer:
    from parley.agent import Agent

    production = None if files.model is not None else await _production_model(releases, project)
    model = production or files.model_path()
    credentials = files.read_credentials(secrets)
    if credentials is not None and config.credentials is None:
        config = replace(config, credentials=credentials)
    metrics = ServerMetrics()
    try:  # PII redaction and tracing (both off by default)
        ops = Operations.from_endpoints(endpoints.as_mapping())
    except ValueError as exc:
        raise ServerStartError(str(exc)) from None
    stores = ops.wrap_stores(await _open_stores(endpoints, project, config))
    closers: list[Closer] = [stores.close, ops.close]
    try:
        event_broker = MetricsEventBroker(metrics, stores.event_broker)
        access = await open_access(secrets.settings().access, project, stores)
        if access is not None:
            closers.insert(0, access.close)
        runner = _action_runner(endpoints, project)
        ops.trace_action_calls(runner)
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
                tracing=ops.tracing,
                redactor=ops.redactor,
                tracker_cache_size=config.tracker_cache_conversations,
                tracker_cache_events=config.tracker_cache_events,
            )
            return agent

        holder = AgentHolder(
            load(model),
            model,
            load,
            on_load=lambda a: metrics.set_model(a.model_id),
            on_release=release_replaced,
        )
        rollout = await _follow_rollout(holder, releases, project, stores)
        closers.insert(0, rollout.close)
        endpoints_file = project / files.endpoints if files.endpoints is not None else None
        studio = open_studio(access, stores, project, endpoints_file)
        if studio is not None:
            context = ChannelContext(holder, metrics, config)
            studio.share = open_sharing(studio, holder, releases, context, project)
            closers.insert(0, studio.share.close)
        return create_app(
            holder,
            config,
            metrics,
            closers,
            background=[rollout.run],
            extra_routers=[rollout_router(rollout.releases, stores.tracker_store)],
            access=access,
            tracing=ops.tracing,
            studio=studio,
        )
    except BaseException:
        for close in closers:
            await close()
        raise
