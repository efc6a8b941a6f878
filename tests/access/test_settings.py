"""`access:` in parley.yml: validated once, custom roles checked, audit rows published."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from parley.access.errors import AccessConfigError
from parley.access.permissions import RoleBook
from parley.security.config import load_settings
from parley.security.errors import SecurityError
from parley.server.bootstrap import AUDIT_SENDER, open_access
from parley.stores.persistence import create_stores
from parley.stores.sql_schema import broker_events
from tests.access.conftest import open_access as open_access_store


def test_parley_yml_access_section_is_read_and_validated(tmp_path: Path) -> None:
    (tmp_path / "parley.yml").write_text(
        "access:\n"
        "  session: {idle_minutes: 15, absolute_hours: 8}\n"
        "  roles: {reviewer: [conversations:read, conversations:tag]}\n"
        "  ldap:\n"
        "    url: ldap://127.0.0.1:389\n"
        "    user_dn_template: 'uid={username},ou=people,dc=example,dc=org'\n"
        "    groups: {parley-admins: admin}\n"
    )
    settings = load_settings(tmp_path).access
    assert settings is not None and settings.session.idle_minutes == 15
    assert settings.ldap is not None and settings.ldap.groups == {"parley-admins": "admin"}
    (tmp_path / "parley.yml").write_text("access:\n  sesion: {idle_minutes: 15}\n")
    with pytest.raises(SecurityError, match=r"access\.sesion: Extra inputs"):
        load_settings(tmp_path)


def test_custom_roles_name_known_permissions_only() -> None:
    book = RoleBook.build({"reviewer": ["conversations:read", "conversations:tag"]})
    assert book.permissions("reviewer") == {"conversations:read", "conversations:tag"}
    with pytest.raises(AccessConfigError, match="conversations:reed"):
        RoleBook.build({"reviewer": ["conversations:reed"]})
    with pytest.raises(AccessConfigError, match="built-in"):
        RoleBook.build({"admin": ["audit:read"]})


async def test_a_mapping_to_an_unknown_role_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(AccessConfigError, match="unknown role 'superuser'"):
        await open_access_store(
            tmp_path, ldap={"url": "ldap://x", "user_dn_template": "uid={username}",
                            "groups": {"g": "superuser"}},
        )  # fmt: skip


async def test_audit_rows_are_published_to_the_event_broker(tmp_path: Path) -> None:
    from parley.access.settings import AccessSettings

    stores = await create_stores({"event_broker": {"type": "sql"}}, tmp_path)
    access = await open_access(
        AccessSettings.model_validate({"audit": {"publish": True}}), tmp_path, stores
    )
    assert access is not None
    try:
        await access.create_user("cli:root", "dana", "viewer", "a long password")
        async with access.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(broker_events.c.data).where(broker_events.c.sender_id == AUDIT_SENDER)
                )
            ).all()
    finally:
        await access.close()
        await stores.close()
    assert len(rows) == 1
    assert '"action": "user_create"' in rows[0].data and "a long password" not in rows[0].data


def test_guest_link_expiry_settings_are_read_and_checked(tmp_path: Path) -> None:
    (tmp_path / "parley.yml").write_text("access:\n  share: {default_days: 2, max_days: 5}\n")
    settings = load_settings(tmp_path).access
    assert settings is not None
    assert (settings.share.default_days, settings.share.max_days) == (2, 5)
    (tmp_path / "parley.yml").write_text("access:\n  share: {default_days: 40}\n")
    with pytest.raises(SecurityError, match="default_days \\(40\\) exceeds max_days"):
        load_settings(tmp_path)
