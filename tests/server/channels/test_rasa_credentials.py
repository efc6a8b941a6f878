"""A Rasa credentials.yml naming all nine messaging platforms starts the server (uvicorn on
127.0.0.1, as `parley run` does) with every channel served."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from parley.server import ServerConfig
from parley.server.bootstrap import ProjectFiles, build_server
from tests.server.helpdesk import helpdesk_model
from tests.server.live import running

RASA_CREDENTIALS = """\
rest:
slack:
  slack_token: "xoxb-123"
  slack_channel: "C123"
  slack_signing_secret: "signing-secret"
telegram:
  access_token: "123:abc"
  verify: "helpdesk_bot"
  webhook_url: "https://bot.example/webhooks/telegram/webhook"
twilio:
  account_sid: "AC123"
  auth_token: "twilio-token"
  twilio_number: "+15550001111"
facebook:
  verify: "verify-me"
  secret: "app-secret"
  page-access-token: "page-token"
botframework:
  app_id: "app-123"
  app_password: "app-password"
mattermost:
  url: "https://chat.example/api/v4"
  token: "bot-token"
  webhook_url: "https://bot.example/webhooks/mattermost/webhook"
rocketchat:
  user: "helpdesk"
  password: "pw"
  server_url: "https://rocket.example"
webexteams:
  access_token: "webex-token"
  room: "room-1"
hangouts:
  project_id: "123456789012"
"""
MESSAGING = [
    "slack",
    "telegram",
    "twilio",
    "facebook",
    "botframework",
    "mattermost",
    "rocketchat",
    "webexteams",
    "hangouts",
]


async def test_a_rasa_credentials_file_with_every_platform_serves_them_all(
    tmp_path: Path,
) -> None:
    (tmp_path / "models").mkdir()
    shutil.copy(helpdesk_model(), tmp_path / "models")
    (tmp_path / "credentials.yml").write_text(RASA_CREDENTIALS)
    (tmp_path / "credentials.yml").chmod(0o600)  # it holds secrets
    server = await build_server(ProjectFiles(project=tmp_path), ServerConfig())
    assert [c.name for c in server.channels] == ["rest", *MESSAGING]
    async with running(server) as port, httpx.AsyncClient() as client:
        for name in MESSAGING:
            health = await client.get(f"http://127.0.0.1:{port}/webhooks/{name}/")
            assert health.json() == {"status": "ok"}, name
        unsigned = await client.post(
            f"http://127.0.0.1:{port}/webhooks/botframework/webhook", json={"type": "message"}
        )
        assert unsigned.status_code == 401
