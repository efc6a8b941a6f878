"""What any `parley` command pays at start: the CLI loads a command's libraries when it runs."""

from __future__ import annotations

import json
import subprocess
import sys

from parley import __version__

# Each of these took part of the 0.86 s `parley --version` used to take.
NOT_NEEDED_TO_START = ("numpy", "sqlalchemy", "pydantic", "ruamel", "sklearn", "parley.agent")

_SCRIPT = """
import json, sys
sys.argv = ["parley", "--version"]
from parley.cli.main import run
try:
    run()
except SystemExit as exit:
    print(json.dumps([exit.code, sorted(sys.modules)]), file=sys.stderr)
"""


def test_version_starts_without_the_heavy_libraries() -> None:
    done = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True)
    code, modules = json.loads(done.stderr.strip().splitlines()[-1])
    assert code == 0
    assert done.stdout.strip() == f"parley {__version__}"
    assert [m for m in NOT_NEEDED_TO_START if m in modules] == []


def test_a_known_error_is_one_line_not_a_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [sys.executable, "-m", "parley.cli.main", "train", "--project", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "domain" in done.stderr or "config" in done.stderr, done.stderr
