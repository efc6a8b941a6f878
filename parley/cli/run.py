"""`parley run`: serve the assistant; `parley run actions`: serve custom actions."""

from __future__ import annotations

import logging
import ssl
import sys
from pathlib import Path

import typer

import parley.actions  # noqa: F401  (registers its `parley data validate` check)
from parley.cli.app import app, err_console

run_app = typer.Typer(help="Serve the assistant, or its custom actions.")
app.add_typer(run_app, name="run")

logger = logging.getLogger(__name__)


@run_app.callback(invoke_without_command=True)
def run(ctx: typer.Context) -> None:
    """Serve the assistant (HTTP API and channels)."""
    if ctx.invoked_subcommand is not None:
        return
    err_console.print("error: serving the assistant is not available yet; try `parley run actions`")
    raise typer.Exit(2)


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

    from parley.actions.signing import RequestVerifier
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
    uvicorn.run(
        create_app(executor, verifier),
        host=host,
        port=port,
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
        ssl_ca_certs=str(ssl_ca_file) if ssl_ca_file else None,
        ssl_cert_reqs=ssl.CERT_REQUIRED if ssl_ca_file else ssl.CERT_NONE,
        log_level="info",
    )
