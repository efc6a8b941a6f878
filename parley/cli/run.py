"""`parley run`: serve the assistant (channels, HTTP API, web chat). Subcommands serve other
processes (`parley run actions`).

Flags win over `parley.yml`'s `server:` section, which wins over the defaults.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import typer

from parley.cli.app import app, console

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
) -> None:
    """Serve the assistant: REST, socket.io and callback channels, web chat at /chat, metrics."""
    if ctx.invoked_subcommand is not None:
        return
    started = time.perf_counter()
    from parley.security import install_redaction
    from parley.server.bootstrap import ProjectFiles, build_server
    from parley.server.config import ServerConfig
    from parley.server.logs import configure_logging
    from parley.server.serve import event_loop_factory, serve

    if log_format not in ("json", "text"):
        raise typer.BadParameter("use 'json' or 'text'", param_hint="--log-format")
    files = ProjectFiles(project, model, endpoints, credentials)
    settings = files.secrets().settings()
    server = settings.server
    verbose = logging.getLogger().level <= logging.DEBUG  # `parley -v run`
    level: int = logging.DEBUG if verbose else getattr(logging, settings.logging.level)
    configure_logging(level, json_lines=log_format == "json")
    install_redaction()  # secrets resolved from now on never reach a log line

    def secret(flag: str | None, configured: object) -> str | None:
        value = getattr(configured, "get_secret_value", None)
        return flag or (value() if value else None)

    host = interface or server.host
    port = port or server.port
    certfile = ssl_certfile or (Path(server.ssl_certfile) if server.ssl_certfile else None)
    keyfile = ssl_keyfile or (Path(server.ssl_keyfile) if server.ssl_keyfile else None)
    if keyfile and not certfile:
        raise typer.BadParameter("--ssl-keyfile needs --ssl-certfile", param_hint="--ssl-keyfile")
    config = ServerConfig(
        enable_api=enable_api,
        auth_token=secret(auth_token, server.auth_token),
        jwt_secret=secret(jwt_secret, server.jwt_secret),
        jwt_method=jwt_method or server.jwt_method,
        cors_origins=tuple(cors),
        max_body_bytes=max_body_kb * 1000,
    )
    if enable_api and not config.auth_enabled and host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning(
            "the HTTP API is enabled without --auth-token or --jwt-secret: anyone who can reach "
            "port %d can read and change conversations",
            port,
        )
    scheme = "https" if certfile else "http"
    shown_host = "127.0.0.1" if host == "0.0.0.0" else host

    async def main() -> None:
        built = await build_server(files, config)
        console.print(
            f"Serving model {built.holder.agent.model_id} on {scheme}://{host}:{port}"
            + (" with the HTTP API" if enable_api else "")
            + f"; web chat: {scheme}://{shown_host}:{port}/chat",
            highlight=False,
            soft_wrap=True,
        )
        await serve(
            built,
            host=host,
            port=port,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
            ssl_password=secret(ssl_password, server.ssl_password),
            started=started,
        )

    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(main())
