"""Guest links: a named, expiring, revocable link that opens the web chat on one model version.

A link reads `/share/<link id>_<secret>`; only a SHA-256 of the secret is stored (256 random bits:
nothing to guess, so a fast hash is as safe as a slow one, as for API tokens). A guest's
conversation id is made by the server, `share-<link id>-<guest>`, and kept in a cookie sealed
with the deployment's key, so a guest can neither choose nor guess another conversation. Each
such conversation carries the link's name as a studio tag.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from parley.stores.sql_engine import writer
from parley.stores.sql_schema import conversations, share_links, studio_tags

if TYPE_CHECKING:
    from parley.access.settings import ShareSettings
    from parley.server.channels.base import ChannelContext
    from parley.server.version_agents import VersionAgents

GUEST_PREFIX = "share-"
TAGGED_BY = "guest link"  # `created_by` of the tags a link puts on its conversations
NAME_PATTERN = re.compile(r"^[\w][\w .-]{0,63}$")  # also a tag: no '/' (it sits in URLs)
ACTIVE, EXPIRED, REVOKED = "active", "expired", "revoked"


class ShareError(Exception):
    """A link cannot be made as asked: a name taken or unfit, an expiry out of range."""


class ShareNameTaken(ShareError):
    """Another link has the name already."""


@dataclass(frozen=True)
class ShareLink:
    link_id: str
    name: str
    model_version: str | None  # None: the model the server serves
    created_by: str
    created_at: float
    expires_at: float
    revoked_at: float | None
    revoked_by: str | None

    def state(self, now: float | None = None) -> str:
        if self.revoked_at is not None:
            return REVOKED
        return EXPIRED if self.expires_at <= (now or time.time()) else ACTIVE


def _link(row: Any) -> ShareLink:
    return ShareLink(
        link_id=row.link_id,
        name=row.name,
        model_version=row.model_version,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def guest_sender(link_id: str, guest: str) -> str:
    """The conversation id of one guest of a link."""
    return f"{GUEST_PREFIX}{link_id}-{guest}"


def check_name(name: str) -> str:
    """The name stripped; ShareError when it cannot be a link name and a tag."""
    name = name.strip()
    if not NAME_PATTERN.match(name):
        raise ShareError(
            f"Link name {name!r}: 1 to 64 letters, digits, spaces, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return name


class ShareLinks:
    """The `parley_share_links` table, beside the conversations (the SQL tracker store)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create(
        self, name: str, model_version: str | None, expires_at: float, created_by: str
    ) -> tuple[str, ShareLink]:
        """A new link: returns (its token, shown only now; its record). ShareError when the
        name is unfit or taken (by any link, revoked ones too: their conversations keep it)."""
        name = check_name(name)
        link = ShareLink(
            secrets.token_hex(8),
            name,
            model_version,
            created_by,
            time.time(),
            expires_at,
            None,
            None,
        )
        secret = secrets.token_urlsafe(32)
        try:
            async with writer(self.engine).begin() as connection:
                await connection.execute(
                    share_links.insert().values(
                        link_id=link.link_id,
                        name=link.name,
                        secret_hash=_digest(secret),
                        model_version=model_version,
                        created_by=created_by,
                        created_at=link.created_at,
                        expires_at=expires_at,
                    )
                )
        except IntegrityError:
            raise ShareNameTaken(
                f"A link named {name!r} exists already; choose another name."
            ) from None
        return f"{link.link_id}_{secret}", link

    async def find(self, token: str) -> ShareLink | None:
        """The link behind `token` whatever its state; None when unknown or forged."""
        link_id, _, secret = token.partition("_")
        if not link_id or not secret:
            return None
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(share_links).where(share_links.c.link_id == link_id)
                )
            ).first()
        if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
            return None
        return _link(row)

    async def get(self, link_id: str) -> ShareLink | None:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(share_links).where(share_links.c.link_id == link_id)
                )
            ).first()
        return _link(row) if row is not None else None

    async def list(self) -> list[ShareLink]:
        """Every link, newest first."""
        query = select(share_links).order_by(share_links.c.created_at.desc())
        async with self.engine.connect() as connection:
            return [_link(row) for row in await connection.execute(query)]

    async def revoke(self, link_id: str, by: str) -> bool:
        """Revoke a link; False when there is none or it was revoked already."""
        async with writer(self.engine).begin() as connection:
            result = await connection.execute(
                update(share_links)
                .where(share_links.c.link_id == link_id, share_links.c.revoked_at.is_(None))
                .values(revoked_at=time.time(), revoked_by=by)
            )
        return bool(result.rowcount)

    async def conversations(self, link_id: str) -> int:
        """How many conversations the link's guests hold (deleted ones no longer count)."""
        # link ids are hex digits: nothing in the pattern is a LIKE wildcard
        query = select(func.count()).where(
            conversations.c.sender_id.like(guest_sender(link_id, "%"))
        )
        async with self.engine.connect() as connection:
            return int((await connection.execute(query)).scalar() or 0)

    async def tag(self, sender_id: str, link: ShareLink) -> None:
        """Give the conversation the link's name as a studio tag (once; a concurrent insert by
        another worker is fine)."""
        async with self.engine.connect() as connection:
            present = (
                await connection.execute(
                    select(studio_tags.c.tag).where(
                        studio_tags.c.sender_id == sender_id, studio_tags.c.tag == link.name
                    )
                )
            ).first()
        if present is not None:
            return
        async with writer(self.engine).begin() as connection:
            if connection.dialect.name == "postgresql":
                from sqlalchemy.dialects import postgresql as dialect
            else:
                from sqlalchemy.dialects import sqlite as dialect  # type: ignore[no-redef]
            await connection.execute(
                dialect.insert(studio_tags)
                .values(
                    sender_id=sender_id, tag=link.name, created_by=TAGGED_BY, created_at=time.time()
                )
                .on_conflict_do_nothing(index_elements=["sender_id", "tag"])
            )


@dataclass
class Sharing:
    """What the share pages and guest chat work on: the links, the model versions a link can
    pin, the channel path messages take, the rules for expiry, and the key sealing guest
    cookies."""

    links: ShareLinks
    agents: VersionAgents
    context: ChannelContext
    settings: ShareSettings
    key: bytes

    async def close(self) -> None:
        await self.agents.close()
