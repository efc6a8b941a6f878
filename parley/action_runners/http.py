"""Run custom actions on an action server over HTTP(S), as Rasa does, with Parley's safeguards.

Safeguards: connect and total timeouts; a retry only when the connection was refused (nothing
was sent, so no side effect can repeat); a circuit breaker so a dead server costs users no
wait; JWT / HMAC / token / mTLS authentication; an explicit proxy (environment proxies are
ignored so a stray HTTPS_PROXY never sees conversation data).
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from parley.action_runners.breaker import CircuitBreaker
from parley.action_runners.config import ActionEndpointConfig
from parley.action_runners.errors import (
    ActionNotRegistered,
    ActionRejected,
    ActionServerError,
    ActionServerUnavailable,
    ActionTimeout,
    BadActionReply,
    CircuitOpen,
)
from parley.action_runners.protocol import check_reply
from parley.action_runners.signing import create_jwt, hmac_headers

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)

_RETRY_DELAYS = (0.05, 0.15, 0.3, 0.5, 0.5)


class HttpActionRunner:
    """`CustomActionRunner` for an action server (rasa_sdk, `parley run actions`, any language)."""

    def __init__(self, config: ActionEndpointConfig) -> None:
        if not config.url:
            raise ValueError("HttpActionRunner needs action_endpoint 'url'")
        self.config = config
        self.url: str = config.url
        self.breaker = CircuitBreaker(
            config.circuit_breaker.failure_threshold, config.circuit_breaker.reset_timeout
        )
        self._client: httpx.AsyncClient | None = None
        # W3C trace context of the current span (set by the server when tracing is on)
        self.trace_headers: Callable[[], dict[str, str]] | None = None

    async def run(self, action_name: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST the webhook body; return the checked reply. Raises ActionServerError subclasses."""
        if not self.breaker.allow():
            error: ActionServerError = CircuitOpen(
                action_name,
                f"action server {self.url} failed {self.breaker.failure_threshold} times in a row; "
                f"not calling it for another {self.breaker.seconds_until_retry():.0f}s",
            )
            logger.error("%s", error)
            raise error
        try:
            reply = await self._call(action_name, payload)
        except ActionRejected as exc:  # part of the conversation (e.g. a form's slot refused)
            logger.info("%s", exc)
            raise
        except ActionServerError as exc:
            logger.error("%s", exc)
            raise
        except BaseException:  # cancelled mid-call: says nothing about the server's health
            self.breaker.release()
            raise
        return reply

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _call(self, action_name: str, payload: dict[str, Any]) -> dict[str, Any]:
        import httpx  # imported on first use: httpx also loads its CLI (0.1 s at every start)

        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = self._headers(action_name, str(payload.get("sender_id", "")), body)
        client = self._http_client()
        for attempt in range(self.config.retries + 1):
            try:
                response = await client.post(self.url, content=body, headers=headers)
                break
            except httpx.ConnectError as exc:
                if _refused(exc) and attempt < self.config.retries:
                    await asyncio.sleep(_RETRY_DELAYS[attempt])
                    continue
                self.breaker.record_failure()
                raise ActionServerUnavailable(
                    action_name,
                    f"cannot connect to the action server at {self.url}: {_reason(exc)}",
                ) from exc
            except httpx.TimeoutException as exc:
                self.breaker.record_failure()
                raise ActionTimeout(
                    action_name,
                    f"no answer from {self.url} within {self.config.timeout:g}s "
                    f"({type(exc).__name__}); raise action_endpoint.timeout if the action is slow",
                ) from exc
            except httpx.HTTPError as exc:
                self.breaker.record_failure()
                raise ActionServerUnavailable(
                    action_name, f"request to {self.url} failed: {_reason(exc)}"
                ) from exc
        return self._interpret(action_name, response)

    def _interpret(self, action_name: str, response: httpx.Response) -> dict[str, Any]:
        status = response.status_code
        if status == 200:
            try:
                reply = check_reply(action_name, response.json())
            except (ValueError, BadActionReply) as exc:
                self.breaker.record_failure()
                if isinstance(exc, BadActionReply):
                    raise
                raise BadActionReply(
                    action_name, f"the reply from {self.url} is not JSON: {response.text[:200]!r}"
                ) from exc
            self.breaker.record_success()
            return reply
        detail = _error_detail(response)
        if status == 400 and "action_name" in detail:
            self.breaker.record_success()  # the server is healthy; the action declined
            raise ActionRejected(
                action_name, f"rejected by the action server: {detail.get('error') or 'no reason'}"
            )
        if status == 404:
            self.breaker.release()
            raise ActionNotRegistered(
                action_name,
                f"the action server at {self.url} has no such action; is it in the actions module?",
            )
        if status in (401, 403):
            self.breaker.release()
            raise ActionServerError(
                action_name,
                f"the action server refused Parley's credentials (HTTP {status}): "
                f"check action_endpoint jwt / hmac / token against the server's settings",
            )
        if status >= 500:
            self.breaker.record_failure()
        else:
            self.breaker.release()
        message = detail.get("error") or response.text[:200]
        raise ActionServerError(action_name, f"action server answered HTTP {status}: {message}")

    def _headers(self, action_name: str, sender_id: str, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json", **self.config.headers}
        if self.config.jwt:
            token = create_jwt(self.config.jwt, action_name, sender_id)
            headers["Authorization"] = f"Bearer {token}"
        if self.config.hmac:
            headers.update(hmac_headers(self.config.hmac, body))
        if self.trace_headers is not None:
            headers.update(self.trace_headers())
        return headers

    def _http_client(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            config = self.config
            params = dict(config.params)
            if config.token:
                params[config.token_name] = config.token
            auth = (
                httpx.BasicAuth(config.basic_auth.username, config.basic_auth.password)
                if config.basic_auth
                else None
            )
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
                verify=self._tls_context(),
                proxy=config.proxy,
                params=params,
                auth=auth,
                trust_env=False,
                follow_redirects=False,
            )
        return self._client

    def _tls_context(self) -> ssl.SSLContext | bool:
        config = self.config
        tls = config.tls
        if tls is not None and not tls.verify:
            logger.warning("action_endpoint.tls.verify is false: the server is not authenticated")
            return False
        context = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)
        if tls is not None and tls.cert_file:
            context.load_cert_chain(
                str(tls.cert_file),
                str(tls.key_file) if tls.key_file else None,
                password=tls.key_password,
            )
        return context


def _refused(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "Connection refused" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _error_detail(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
