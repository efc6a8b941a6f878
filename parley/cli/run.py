"""`parley run`: serve the assistant (channels, HTTP API, web chat); `parley run actions`:
serve custom actions.

Flags win over `parley.yml`'s `server:` section, which wins over the defaults.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from parley.cli.app import app, console

if TYPE_CHECKING:
    from parley.server.bootstrap import ProjectFiles
    from parley.server.config import Listen, ServerConfig

run_app = typer.Typer(help="Serve the assistant; `parley run actions` serves custom actions.")
app.add_typer(run_app, name="run")

logger = logging.getLogger("parley.server")


@run_app.callback(invoke_without_command=True)
def run(
    ctx: typer.Context,
    model: Path = typer.Option(
        None, "--model", "-m", help="Model archive or folder of archives (newest). Default: models/"
    ),
    project: Path = typer.Option(Path("."), "--project", help="Project folder."),
    endpoints: Path = typer.Option(None, "--endpoints", help="Default: endpoints.yml."),
    credentials: Path = typer.Option(None, "--credentials", help="Default: credentials.yml."),
    interface: str = typer.Option(None, "--interface", "-i", help="Address (default 127.0.0.1)."),
    port: int = typer.Option(None, "--port", "-p", help="Port (default 5005)."),
    enable_api: bool = typer.Option(False, "--enable-api", help="Serve the HTTP API as well."),
    auth_token: str = typer.Option(
        None, "--auth-token", "-t", envvar="PARLEY_AUTH_TOKEN", help="HTTP API token (?token=)."
    ),
    jwt_secret: str = typer.Option(
        None, "--jwt-secret", envvar="PARLEY_JWT_SECRET", help="JWT secret or public key."
    ),
    jwt_method: str = typer.Option(None, "--jwt-method", help="JWT algorithm (HS256)."),
    cors: list[str] = typer.Option([], "--cors", help="Allowed CORS origin (repeat; '*': any)."),
    ssl_certfile: Path = typer.Option(None, "--ssl-certfile", help="TLS certificate (PEM)."),
    ssl_keyfile: Path = typer.Option(None, "--ssl-keyfile", help="TLS private key (PEM)."),
    ssl_password: str = typer.Option(
        None, "--ssl-password", envvar="PARLEY_SSL_PASSWORD", help="Password of the TLS key."
    ),
    max_body_kb: int = typer.Option(1000, "--max-body-kb", help="Largest request body (kB)."),
    log_format: str = typer.Option("json", "--log-format", help="'json' or 'text'."),
    access_log: bool = typer.Option(
        True, "--access-log/--no-access-log", help="Log each request (route, status, time)."
    ),
    workers: int = typer.Option(
        None, "--workers", "-w", min=1, max=64, help="Server processes (one per core; default 1)."
    ),
) -> None:
    """Serve the assistant: REST, socket.io and callback channels, web chat at /chat, metrics."""
    if ctx.invoked_subcommand is not None:
        return
    started = time.perf_counter()
    from parley.security import install_redaction
    from parley.server.auth import open_api_warning
    from parley.server.bootstrap import ProjectFiles, build_server
    from parley.server.config import RunOptions, ServerConfigError, merge_run_options
    from parley.server.logs import configure_logging
    from parley.server.serve import event_loop_factory, serve

    if log_format not in ("json", "text"):
        raise typer.BadParameter("use 'json' or 'text'", param_hint="--log-format")
    files = ProjectFiles(project, model, endpoints, credentials)
    settings = files.secrets().settings()
    verbose = logging.getLogger().level <= logging.DEBUG  # `parley -v run`
    level: int = logging.DEBUG if verbose else getattr(logging, settings.logging.level)
    configure_logging(level, json_lines=log_format == "json")
    install_redaction()  # secrets resolved from now on never reach a log line
    options = RunOptions(
        interface=interface,
        port=port,
        enable_api=enable_api,
        auth_token=auth_token,
        jwt_secret=jwt_secret,
        jwt_method=jwt_method,
        cors=tuple(cors),
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        ssl_password=ssl_password,
        max_body_kb=max_body_kb,
        access_log=access_log,
        workers=workers,
    )
    try:
        config, listen = merge_run_options(options, settings.server)
    except ServerConfigError as exc:
        raise typer.BadParameter(str(exc)) from None
    config = replace(config, model_folders=_model_folders(files, settings.server.model_folders))
    warning = open_api_warning(config, listen.host, settings.access is not None)
    if warning is not None:
        logger.warning(warning)
    if config.workers > 1:
        _serve_workers(files, config, listen, started)
        return

    async def main() -> None:
        built = await build_server(files, config)
        console.print(
            f"Serving model {built.holder.agent.model_id} on "
            f"{listen.scheme}://{listen.host}:{listen.port}"
            + (" with the HTTP API" if enable_api else "")
            + f"; web chat: {listen.scheme}://{listen.shown_host}:{listen.port}/chat",
            highlight=False,
            soft_wrap=True,
        )
        await serve(built, host=listen.host, port=listen.port, started=started, **listen.tls())

    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(main())


def _model_folders(files: ProjectFiles, configured: tuple[str, ...]) -> tuple[Path, ...]:
    """Where `PUT /model` may load archives from: models/ of the project, the folder of
    --model, and server.model_folders of parley.yml (relative to the project)."""
    project = files.project.resolve()
    folders = [project / "models"]
    if files.model is not None:
        given = files.model if files.model.is_absolute() else project / files.model
        folders.append(given if given.is_dir() else given.parent)
    folders += [project / folder for folder in configured]  # an absolute folder stays itself
    return tuple(dict.fromkeys(folders))


def _serve_workers(
    files: ProjectFiles, config: ServerConfig, listen: Listen, started: float
) -> None:
    """Serve with `config.workers` processes (see parley.server.workers)."""
    import shutil
    import tempfile

    from prometheus_client import values

    from parley.server.bootstrap import build_server, check_stores
    from parley.server.metrics import MULTIPROCESS_ENV, forget_process
    from parley.server.serve import event_loop_factory, serve
    from parley.server.workers import Supervisor, Worker, listening_sockets

    shared = Path(tempfile.mkdtemp(prefix="parley-workers-"))
    try:
        (shared / "metrics").mkdir()
        os.environ[MULTIPROCESS_ENV] = str(shared / "metrics")
        # prometheus_client picks its value class at import; no metric exists yet in this
        # process, so choosing again now puts every worker's values in the shared files.
        values.ValueClass = values.get_value_class()
        # Every worker starts on the same model, even if a newer one is trained meanwhile.
        pinned = replace(files, model=files.model_path().resolve())
        config = replace(config, model_pointer=shared / "model")
        # Loaded once here, shared by the forked workers' memory.
        # (python-socketio is not among them: a worker loads it on its first socket.io request,
        # as a single server does; loaded here it cost every start of the supervisor 0.3 s.)
        import parley.agent
        import parley.nlu  # noqa: F401

        # Stores are opened once before the workers exist: schema migrations run once, and a
        # configuration error stops here with one message instead of once per worker.
        asyncio.run(check_stores(pinned, config))
        sockets = listening_sockets(listen.host, listen.port, config.workers)

        def run_worker(worker: Worker) -> int:
            async def main() -> None:
                built = await build_server(pinned, config)
                await serve(built, sockets=[worker.socket], on_ready=worker.ready, **listen.tls())

            with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
                runner.run(main())
            return 0

        console.print(
            f"Serving {pinned.model} with {config.workers} workers on "
            f"{listen.scheme}://{listen.host}:{listen.port}",
            highlight=False,
            soft_wrap=True,
        )
        status = Supervisor(sockets, run_worker, forget_process).run(started)
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    if status:
        raise typer.Exit(status)


@run_app.command("actions")
def run_actions(
    actions: str = typer.Option(
        "actions", "--actions", "-a", help="Module or package with the actions (dotted name)."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: all)."),
    port: int = typer.Option(5055, "--port", "-p", help="Port to listen on."),
    jwt_secret: str | None = typer.Option(
        None, envvar="PARLEY_ACTIONS_JWT_SECRET", help="Require an HS256 JWT signed with this."
    ),
    jwt_public_key: Path | None = typer.Option(
        None, envvar="PARLEY_ACTIONS_JWT_PUBLIC_KEY", help="Require an RS256 JWT (PEM key file)."
    ),
    jwt_audience: str | None = typer.Option(None, help="Required JWT 'aud' claim."),
    jwt_issuer: str | None = typer.Option(None, help="Required JWT 'iss' claim."),
    hmac_secret: str | None = typer.Option(
        None, envvar="PARLEY_ACTIONS_HMAC_SECRET", help="Require HMAC-SHA256 signed requests."
    ),
    replay_window: float = typer.Option(300.0, help="Seconds a signed request stays valid."),
    token: str | None = typer.Option(
        None, envvar="PARLEY_ACTIONS_TOKEN", help="Require this token (query or X-Parley-Token)."
    ),
    ssl_certfile: Path | None = typer.Option(None, help="Serve HTTPS with this certificate."),
    ssl_keyfile: Path | None = typer.Option(None, help="Private key of --ssl-certfile."),
    ssl_ca_file: Path | None = typer.Option(
        None, help="Require client certificates signed by this CA (mutual TLS)."
    ),
) -> None:
    """Serve custom actions over Rasa's webhook protocol (POST /webhook, GET /health)."""
    import uvicorn

    from parley.action_runners.signing import RequestVerifier
    from parley.sdk.executor import ActionExecutor
    from parley.sdk.server import create_app
    from parley.security import is_loopback

    if jwt_secret and jwt_public_key:
        raise typer.BadParameter("give --jwt-secret (HS256) or --jwt-public-key (RS256), not both")
    if ssl_ca_file and not ssl_certfile:
        raise typer.BadParameter("--ssl-ca-file (mutual TLS) needs --ssl-certfile")
    sys.path.insert(0, str(Path.cwd()))
    executor = ActionExecutor()
    try:
        executor.register_package(actions)
    except ImportError as exc:
        raise typer.BadParameter(f"cannot import actions module '{actions}': {exc}") from exc
    verifier = RequestVerifier(
        jwt_key=jwt_public_key.read_text(encoding="utf-8") if jwt_public_key else jwt_secret,
        jwt_algorithm="RS256" if jwt_public_key else "HS256",
        jwt_audience=jwt_audience,
        jwt_issuer=jwt_issuer,
        hmac_secret=hmac_secret,
        replay_window=replay_window,
        token=token,
    )
    checks = ", ".join(verifier.required) or "none (anyone who can reach it may call it)"
    if not verifier.required and not ssl_ca_file and not is_loopback(host):
        logger.warning(
            "Actions are served on %s without authentication: set PARLEY_ACTIONS_JWT_SECRET "
            "or PARLEY_ACTIONS_HMAC_SECRET (and action_endpoint jwt/hmac in the assistant)",
            host,
        )
    scheme = "https" if ssl_certfile else "http"
    logger.info(
        "Serving %d actions from '%s' on %s://%s:%d/webhook; authentication: %s%s",
        len(executor.names),
        actions,
        scheme,
        host,
        port,
        checks,
        ", client certificates required" if ssl_ca_file else "",
    )
    from parley.observability.tracing import TracingConfig, build_tracing

    # spans when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set; flushed at exit by the provider
    tracing = build_tracing(TracingConfig.from_environment("parley-actions"))
    uvicorn.run(
        create_app(executor, verifier, tracing),
        host=host,
        port=port,
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
        ssl_ca_certs=str(ssl_ca_file) if ssl_ca_file else None,
        ssl_cert_reqs=ssl.CERT_REQUIRED if ssl_ca_file else ssl.CERT_NONE,
        log_level="info",
    )
