"""What `parley run` loads at start: only what the configured assistant uses.

Every library a server does not use costs start time and memory in each worker; these are the
ones that used to be imported by default (0.9 s of a 2 s start, measured on this machine).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.server.helpdesk import helpdesk_model

UNUSED_BY_A_SQLITE_SERVER = (
    "alembic",  # a new database gets the current schema directly
    "sklearn",  # training only
    "scipy",  # training only: parsing works on numpy arrays
    "torch",
    "matplotlib",
    "redis",  # configured stores only
    "aio_pika",
    "hvac",  # secrets in Vault only
    "httpx",  # HTTP actions, Duckling, the callback channel only
    "jwt",  # JWT auth only
    "socketio",  # on the first socket.io request
)

_SCRIPT = """
import asyncio, json, sys
from pathlib import Path
from parley.server.bootstrap import ProjectFiles, build_server
from parley.server.config import ServerConfig

async def main():
    built = await build_server(ProjectFiles(project=Path(sys.argv[1])), ServerConfig())
    answer = await built.holder.agent.handle_message("u", "how do I connect to the vpn")
    print(json.dumps([answer[0]["text"], sorted(m.split(".")[0] for m in sys.modules)]))

asyncio.run(main())
"""


def test_a_default_server_starts_without_the_libraries_it_does_not_use(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    shutil.copy(helpdesk_model(), tmp_path / "models")
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path)], capture_output=True, text=True, check=True
    )
    answer, modules = json.loads(out.stdout.strip().splitlines()[-1])
    assert "VPN" in answer
    assert (tmp_path / "parley.db").exists()  # the default SQLite store, created at start
    assert sorted(set(UNUSED_BY_A_SQLITE_SERVER) & set(modules)) == []
