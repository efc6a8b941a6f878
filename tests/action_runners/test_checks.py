from __future__ import annotations

import shutil
from pathlib import Path

from parley.action_runners.checks import check_action_endpoint
from parley.project import load_project
from parley.project.errors import ProblemSink
from tests.action_runners.support import BANKBOT


def problems(root: Path, endpoints: str | None) -> list[str]:
    project_dir = root / "bankbot"
    shutil.copytree(BANKBOT, project_dir)
    if endpoints is None:
        (project_dir / "endpoints.yml").unlink()
    else:
        (project_dir / "endpoints.yml").write_text(endpoints)
    sink = ProblemSink()
    check_action_endpoint(load_project(project_dir), sink)
    return [str(p).replace(str(project_dir) + "/", "") for p in sink.problems]


def test_custom_actions_without_endpoint_are_a_warning(tmp_path: Path) -> None:
    [found] = problems(tmp_path, None)
    # a missing endpoints.yml has no line: the warning points at the domain's actions
    assert found.startswith("domain.yml:")
    assert ":0:0" not in found
    assert found.split(": ", 1)[1] == (
        "warning: the domain has custom actions (action_check_balance, "
        "action_transfer, validate_transfer_form, …) but no action_endpoint is set in "
        "endpoints.yml; they will fail when predicted (set url: or actions_module:)"
    )


def test_invalid_setting_is_an_error_at_the_action_endpoint_line(tmp_path: Path) -> None:
    endpoints = (
        "# actions\naction_endpoint:\n  url: http://x/webhook\n  jwt:\n    algorithm: RS256\n"
    )
    (found,) = problems(tmp_path, endpoints)
    assert found.startswith("endpoints.yml:2:1: error: action_endpoint.jwt: ")
    assert "private_key" in found


def test_references_are_not_judged_before_resolution(tmp_path: Path) -> None:
    endpoints = (
        "action_endpoint:\n  url: ${ACTIONS_URL}\n  jwt:\n    secret: ${JWT}\n"
        "  hmac:\n    secret: ${file:secrets/hmac}\n"
    )
    assert problems(tmp_path, endpoints) == []
