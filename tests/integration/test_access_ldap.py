"""LDAP login against a real OpenLDAP (slapd) started by the test on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from parley.access.audit import AuditFilter
from parley.access.errors import LoginFailed
from parley.access.service import Access
from parley.access.settings import AccessSettings
from parley.agent import Agent
from parley.server import AgentHolder, ParleyServer, ServerConfig, create_app
from tests.integration.idp.slapd import GROUPS, PEOPLE, Directory, group, person, running_slapd
from tests.server.conftest import client_for
from tests.server.helpdesk import helpdesk_agent

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def directory() -> Iterator[Directory]:
    with running_slapd() as directory:
        directory.ldif(
            person("alice", "alice-password-1")
            + person("bob", "bob-password-12")
            + person("carol", "carol-password-1")
            + group("parley-admins", "alice")
            + group("labellers", "bob")
        )
        yield directory


def _settings(directory: Directory, **ldap: object) -> AccessSettings:
    return AccessSettings.model_validate(
        {
            "ldap": {
                "url": directory.url,
                "bind_dn": "cn=admin,dc=parley,dc=test",
                "bind_password": "slapd-admin-secret",
                "user_search_base": PEOPLE,
                "group_search_base": GROUPS,
                "groups": {f"cn=parley-admins,{GROUPS}": "admin", "labellers": "annotator"},
                **ldap,
            }
        }
    )


@pytest.fixture
async def access(directory: Directory, tmp_path: Path) -> AsyncIterator[Access]:
    access = await Access.open(_settings(directory), tmp_path)
    yield access
    await access.close()


@pytest.fixture
def server(access: Access) -> ParleyServer:
    agent: Agent = helpdesk_agent()
    return create_app(AgentHolder(agent, None), ServerConfig(enable_api=True), access=access)


async def _login(server: ParleyServer, username: str, password: str) -> tuple[int, dict]:
    async with client_for(server) as client:
        response = await client.post(
            "/auth/login", json={"username": username, "password": password}
        )
        if response.status_code == 200:
            me = await client.get("/auth/me")
            assert me.json()["username"] == response.json()["username"]
        return response.status_code, response.json()


async def test_directory_users_log_in_with_the_role_of_their_group(
    server: ParleyServer, access: Access
) -> None:
    status, body = await _login(server, "alice", "alice-password-1")
    assert (status, body["role"]) == (200, "admin")
    status, body = await _login(server, "bob", "bob-password-12")
    assert (status, body["role"]) == (200, "annotator")
    status, body = await _login(server, "carol", "carol-password-1")
    assert (status, body["role"]) == (200, "viewer")  # in no mapped group: the default role
    status, body = await _login(server, "Carol", "carol-password-1")
    assert (status, body["username"]) == (200, "carol")  # the directory's spelling: one user
    alice = await access.users.get("alice")
    assert alice is not None and alice.source == "ldap" and alice.email == "alice@parley.test"


async def test_a_wrong_password_or_unknown_user_is_refused_and_audited(
    server: ParleyServer, access: Access
) -> None:
    assert (await _login(server, "alice", "not-her-password"))[0] == 401
    assert (await _login(server, "mallory", "whatever-pass"))[0] == 401
    with pytest.raises(LoginFailed):  # an empty password would be an anonymous bind
        await access.login("alice", "")
    assert (await _login(server, "*", "alice-password-1"))[0] == 401  # no filter injection
    failed = await access.audit.query(AuditFilter(action="login", result="failed"))
    assert {row.actor for row in failed} >= {"alice", "mallory", "*"}


async def test_a_group_change_in_the_directory_changes_the_role_at_next_login(
    server: ParleyServer, access: Access, directory: Directory
) -> None:
    status, body = await _login(server, "bob", "bob-password-12")
    assert body["role"] == "annotator"
    directory.ldif(
        f"dn: cn=parley-admins,{GROUPS}\nchangetype: modify\nadd: member\n"
        f"member: uid=bob,{PEOPLE}\n",
        modify=True,
    )
    try:
        status, body = await _login(server, "bob", "bob-password-12")
        assert (status, body["role"]) == (200, "admin")
        changes = await access.audit.query(AuditFilter(action="role_change", target="bob"))
        assert changes[0].details == {"from": "annotator", "to": "admin", "source": "ldap"}
    finally:
        directory.ldif(
            f"dn: cn=parley-admins,{GROUPS}\nchangetype: modify\ndelete: member\n"
            f"member: uid=bob,{PEOPLE}\n",
            modify=True,
        )


async def test_without_a_default_role_users_outside_the_groups_are_refused(
    directory: Directory, tmp_path: Path
) -> None:
    access = await Access.open(_settings(directory, default_role=None), tmp_path)
    try:
        agent = helpdesk_agent()
        server = create_app(AgentHolder(agent, None), ServerConfig(), access=access)
        status, body = await _login(server, "carol", "carol-password-1")
        assert status == 401 and "not in any group" in body["message"]
        assert await access.users.get("carol") is None
    finally:
        await access.close()


async def test_a_user_dn_template_needs_no_service_account(
    directory: Directory, tmp_path: Path
) -> None:
    settings = _settings(
        directory, bind_dn=None, bind_password=None, user_search_base=None,
        user_dn_template=f"uid={{username}},{PEOPLE}",
    )  # fmt: skip
    access = await Access.open(settings, tmp_path)
    try:
        result = await access.login("alice", "alice-password-1")
        assert result.user.role == "admin"
    finally:
        await access.close()
