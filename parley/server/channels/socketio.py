"""The socket.io channel, wire-compatible with the web chat widgets Rasa users embed.

Client -> server: `session_request {session_id}` (answered by `session_confirm <id>`) and the
user event (`user_uttered` by default) `{message, session_id, <metadata_key>}`. Server ->
client: one bot event (`bot_uttered`) per bot message, in Rasa's socket.io shapes (`text`,
`quick_replies`, `attachment`). Settings from credentials.yml: `user_message_evt`,
`bot_message_evt`, `namespace`, `session_persistence`, `socketio_path`, `jwt_key`,
`jwt_method`, `metadata_key`.

python-socketio (with the HTTP client libraries its package imports, about 0.2 s) is loaded
when the first request reaches the socket.io path, not while the server starts (with workers:
in each worker).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.ids import sender_id_problem
from parley.server.channels.base import ChannelContext, InputChannel
from parley.server.errors import ApiError

if TYPE_CHECKING:
    import socketio

logger = logging.getLogger(__name__)


def to_socketio(message: dict[str, Any]) -> list[dict[str, Any]]:
    """One bot message in REST shape -> the socket.io payloads Rasa's widgets render."""
    out: list[dict[str, Any]] = []
    text = message.get("text")
    buttons = message.get("buttons") or message.get("quick_replies")
    if text is not None and buttons:
        out.append(
            {
                "text": text,
                "quick_replies": [
                    {"content_type": "text", "title": b.get("title"), "payload": b.get("payload")}
                    for b in buttons
                    if isinstance(b, dict)
                ],
            }
        )
    elif text is not None:
        out.append({"text": text})
    if message.get("image"):
        out.append({"attachment": {"type": "image", "payload": {"src": message["image"]}}})
    if message.get("elements"):
        out.append(
            {
                "attachment": {
                    "type": "template",
                    "payload": {"template_type": "generic", "elements": message["elements"]},
                }
            }
        )
    if message.get("attachment"):
        out.append({"attachment": message["attachment"]})
    if message.get("custom") is not None:
        custom = message["custom"]
        out.append(custom if isinstance(custom, dict) else {"custom": custom})
    return out


class _LibraryLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """python-socketio's and python-engineio's log. Their errors are what a client's malformed
    packets cause (a frame that is not JSON, an unknown packet type): one INFO line each, not a
    traceback at ERROR, so that anyone on the internet cannot fill the error log."""

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.logger.debug(msg, *args, **kwargs)  # every packet, user text included

    def error(self, msg: object, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("exc_info", None)
        self.logger.info(f"socket.io: {msg}", *args, **kwargs)

    def exception(self, msg: object, *args: Any, exc_info: Any = True, **kwargs: Any) -> None:
        error = sys.exc_info()[1]
        cause = f" ({type(error).__name__}: {str(error)[:200]})" if error is not None else ""
        self.logger.info(f"socket.io: {msg}{cause}", *args, **kwargs)


class SocketIOChannel(InputChannel):
    name = "socketio"

    def __init__(self, settings: dict[str, Any], context: ChannelContext) -> None:
        super().__init__(settings, context)
        self.user_event = str(settings.get("user_message_evt") or "user_uttered")
        self.bot_event = str(settings.get("bot_message_evt") or "bot_uttered")
        self.namespace = settings.get("namespace") or "/"
        self.session_persistence = bool(settings.get("session_persistence", False))
        self.path = "/" + str(settings.get("socketio_path") or "/socket.io").strip("/")
        self.jwt_key = settings.get("jwt_key")
        self.jwt_method = str(settings.get("jwt_method") or "HS256")
        self.metadata_key = str(settings.get("metadata_key") or "metadata")
        self._sio: socketio.AsyncServer | None = None

    @property
    def sio(self) -> socketio.AsyncServer:
        """The socket.io server, created on first use."""
        if self._sio is None:
            import socketio

            origins = list(self.context.config.cors_origins)
            self._sio = socketio.AsyncServer(
                async_mode="asgi",
                # Long-polling sends each request of a session anew, to any worker; only a
                # websocket stays with the worker that holds the session.
                transports=(
                    ["websocket"] if self.context.config.workers > 1 else ["polling", "websocket"]
                ),
                cors_allowed_origins="*" if "*" in origins else (origins or None),
                logger=_LibraryLog(logging.getLogger("socketio.server")),
                engineio_logger=_LibraryLog(logging.getLogger("engineio.server")),
            )
            self._register(self._sio)
        return self._sio

    def wrap(self, app: ASGIApp) -> ASGIApp:
        return _SocketIOMount(self, app)

    def _authorized(self, auth: Any) -> bool:
        if not self.jwt_key:
            return True
        import jwt

        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str):
            return False
        try:
            jwt.decode(token, self.jwt_key, algorithms=[self.jwt_method])
        except jwt.PyJWTError:
            return False
        return True

    def _register(self, sio: socketio.AsyncServer) -> None:
        namespace = self.namespace

        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            if not self._authorized(auth):
                logger.info("socket.io: refused a connection without a valid token")
                return False
            return True

        async def session_request(sid: str, data: Any = None) -> None:
            session_id = data.get("session_id") if isinstance(data, dict) else None
            if session_id is not None and sender_id_problem(session_id) is not None:
                logger.info("socket.io: a session_request's session_id was unusable; new one given")
                session_id = None
            if not isinstance(session_id, str):
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        async def user_uttered(sid: str, data: Any = None) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message"), str):
                return
            if self.session_persistence:
                sender = data.get("session_id")
                problem = sender_id_problem(sender)
                if problem is not None or not isinstance(sender, str):
                    logger.info("socket.io: a message was ignored: its session_id %s", problem)
                    return
            else:
                sender = sid
            metadata = data.get(self.metadata_key)
            if not isinstance(metadata, dict):
                metadata = None
            try:
                messages = await self.context.handle(self.name, sender, data["message"], metadata)
            except ApiError as exc:  # the message itself is refused (too long, ...)
                logger.info("socket.io: a message was refused: %s", exc.message)
                return
            except Exception:
                logger.exception("socket.io: could not handle a message")
                return
            await self.send(sender, messages)

        sio.on("connect", connect, namespace=namespace)
        sio.on("session_request", session_request, namespace=namespace)
        sio.on(self.user_event, user_uttered, namespace=namespace)

    async def send(self, sender_id: str, messages: list[dict[str, Any]]) -> bool:
        """To the user's room: the socket (or, with session persistence, the session id)."""
        for message in messages:
            for payload in to_socketio(message):
                await self.sio.emit(
                    self.bot_event, payload, room=sender_id, namespace=self.namespace
                )
        return True

    async def close(self) -> None:
        return None


class _SocketIOMount:
    """Sends requests under the channel's path to python-socketio (created on the first one)
    and everything else, lifespan included, straight to `app`."""

    def __init__(self, channel: SocketIOChannel, app: ASGIApp) -> None:
        self.channel = channel
        self.app = app
        self.prefix = channel.path.rstrip("/") + "/"
        self._engine: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and (scope["path"] + "/").startswith(self.prefix):
            if self._engine is None:
                import socketio

                self._engine = socketio.ASGIApp(
                    self.channel.sio, other_asgi_app=self.app, socketio_path=self.prefix.strip("/")
                )
            await _quietly(self._engine, scope, receive, send)
            return
        await self.app(scope, receive, send)


POST_SECONDS = 10.0


async def _quietly(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run python-engineio's app; a packet it cannot handle (its exceptions escape to the
    server, which would log them at ERROR) gets a 400 and one INFO line."""
    started = False

    async def tracked(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        if scope["type"] == "http" and scope["method"] == "POST":
            # a long-polling POST only hands packets over; some malformed ones leave
            # python-engineio waiting for ever
            async with asyncio.timeout(POST_SECONDS):
                await app(scope, receive, tracked)
        else:
            await app(scope, receive, tracked)
    except Exception as exc:
        logger.info("socket.io: refused a malformed request (%s)", type(exc).__name__)
        if scope["type"] == "http" and not started:
            body = b"malformed socket.io request"
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"text/plain"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
