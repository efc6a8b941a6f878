"""deploy/ci/parley-ci.sh run for real on a `parley init` project: every step passes, and the
model and its figures are published to a registry (an HTTP server on 127.0.0.1 taking PUT)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "ci" / "parley-ci.sh"


class Registry:
    """Keeps what is PUT to it, by path; needs the bearer token."""

    def __init__(self, token: str) -> None:
        self.objects: dict[str, bytes] = {}
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Authorization") != f"Bearer {token}":
                    self.send_response(401)
                else:
                    registry.objects[self.path] = body
                    self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/assistant"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_the_ci_script_validates_trains_tests_compares_and_publishes(tmp_path: Path) -> None:
    parley = [sys.executable, "-m", "parley.cli.main"]
    subprocess.run([*parley, "init", str(tmp_path / "bot")], check=True, capture_output=True)
    project = tmp_path / "bot"
    bin_dir = tmp_path / "bin"  # `parley` as the template calls it, this checkout's
    bin_dir.mkdir()
    (bin_dir / "parley").write_text(f'#!/bin/sh\nexec {sys.executable} -m parley.cli.main "$@"\n')
    (bin_dir / "parley").chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    production = tmp_path / "production-figures.json"
    production.write_text(json.dumps({"intent_f1": 0.2, "stories_f1": 0.5}))
    registry = Registry("registry-token")
    try:
        result = subprocess.run(
            ["bash", str(SCRIPT)],
            cwd=project,
            env={
                **os.environ,
                "PATH": f"{bin_dir}:{os.environ['PATH']}",
                "CV_FOLDS": "2",
                "PRODUCTION_FIGURES": str(production),
                "PIP_AUDIT": "0",  # needs the advisory database online (tools/audit_dependencies.py)
                "PUBLISH": "1",
                "MODEL_REGISTRY_URL": registry.url,
                "MODEL_REGISTRY_TOKEN": "registry-token",
            },
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        registry.server.shutdown()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "no regression against production" in result.stdout
    assert "No security findings." in result.stdout
    (model,) = (project / "models").glob("*.tar.gz")
    name = model.name.removesuffix(".tar.gz")
    assert registry.objects[f"/assistant/models/{model.name}"] == model.read_bytes()
    figures = json.loads(registry.objects[f"/assistant/models/{name}.figures.json"])
    assert figures["stories_f1"] == 1.0 and 0.0 < figures["intent_f1"] <= 1.0
