"""`parley run`: serve the assistant (channels, HTTP API, web chat). Subcommands serve other
processes (`parley run actions`)."""

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
        None,
        "--model",
        "-m",
        help="Model archive, or a folder of them (newest wins). Default: models/.",
    ),
    project: Path = typer.Option(Path("."), "--project", help="Project folder."),
    endpoints: Path = typer.Option(
        Path("endpoints.yml"), "--endpoints", help="Stores, actions, brokers."
    ),
    credentials: Path = typer.Option(
        Path("credentials.yml"), "--credentials", help="Channels to serve."
    ),
    interface: str = typer.Option("0.0.0.0", "--interface", "-i", help="Address to listen on."),
    port: int = typer.Option(5005, "--port", "-p", help="Port to listen on."),
    enable_api: bool = typer.Option(False, "--enable-api", help="Serve the HTTP API as well."),
    auth_token: str = typer.Option(
        None,
        "--auth-token",
        "-t",
        envvar="PARLEY_AUTH_TOKEN",
        help="Token for the HTTP API (?token=).",
    ),
    jwt_secret: str = typer.Option(
        None,
        "--jwt-secret",
        envvar="PARLEY_JWT_SECRET",
        help="Secret (or public key) for JWT auth.",
    ),
    jwt_method: str = typer.Option("HS256", "--jwt-method", help="JWT algorithm."),
    cors: list[str] = typer.Option([], "--cors", help="Allowed CORS origin (repeat; '*' for any)."),
    ssl_certfile: Path = typer.Option(None, "--ssl-certfile", help="TLS certificate (PEM)."),
    ssl_keyfile: Path = typer.Option(None, "--ssl-keyfile", help="TLS private key (PEM)."),
    ssl_password: str = typer.Option(
        None, "--ssl-password", envvar="PARLEY_SSL_PASSWORD", help="Password of the TLS key."
    ),
    max_body_kb: int = typer.Option(1000, "--max-body-kb", help="Largest request body accepted."),
    log_format: str = typer.Option("json", "--log-format", help="'json' or 'text'."),
) -> None:
    """Serve the assistant: REST, socket.io and callback channels, web chat at /chat, metrics."""
    if ctx.invoked_subcommand is not None:
        return
    started = time.perf_counter()
    from parley.server.bootstrap import ProjectFiles, build_server
    from parley.server.config import ServerConfig
    from parley.server.logs import configure_logging
    from parley.server.serve import event_loop_factory, serve

    if log_format not in ("json", "text"):
        raise typer.BadParameter("use 'json' or 'text'", param_hint="--log-format")
    if ssl_keyfile and not ssl_certfile:
        raise typer.BadParameter("--ssl-keyfile needs --ssl-certfile", param_hint="--ssl-keyfile")
    verbose = logging.getLogger().level <= logging.DEBUG
    configure_logging(logging.DEBUG if verbose else logging.INFO, json_lines=log_format == "json")
    config = ServerConfig(
        enable_api=enable_api,
        auth_token=auth_token,
        jwt_secret=jwt_secret,
        jwt_method=jwt_method,
        cors_origins=tuple(cors),
        max_body_bytes=max_body_kb * 1000,
    )
    if (
        enable_api
        and not config.auth_enabled
        and interface not in ("127.0.0.1", "localhost", "::1")
    ):
        logger.warning(
            "the HTTP API is enabled without --auth-token or --jwt-secret: anyone who can reach "
            "port %d can read and change conversations",
            port,
        )
    files = ProjectFiles(project=project, model=model, endpoints=endpoints, credentials=credentials)
    scheme = "https" if ssl_certfile else "http"

    async def main() -> None:
        server = await build_server(files, config)
        console.print(
            f"Serving model {server.holder.agent.model_id} on {scheme}://{interface}:{port}"
            + (" (HTTP API enabled)" if enable_api else "")
            + f"; web chat at {scheme}://{'127.0.0.1' if interface == '0.0.0.0' else interface}:{port}/chat",
            highlight=False,
        )
        await serve(
            server,
            host=interface,
            port=port,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            ssl_password=ssl_password,
            started=started,
        )

    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(main())
