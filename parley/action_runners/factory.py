"""Build the runner that endpoints.yml asks for."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from parley.action_runners.config import ActionEndpointConfig, parse_action_endpoint
from parley.action_runners.http import HttpActionRunner
from parley.action_runners.inprocess import InProcessActionRunner
from parley.dialogue.custom import CustomActionRunner
from parley.project.endpoints import Endpoints


def load_action_runner(project_root: Path) -> CustomActionRunner | None:
    """The runner the project's endpoints.yml asks for (references resolved), or None.

    Raises ActionConfigError, or SecurityError for a reference that cannot be resolved.
    """
    from parley.security import load_endpoints

    return create_action_runner(load_endpoints(project_root), project_root)


def create_action_runner(
    endpoints: Endpoints | Mapping[str, Any], project_root: Path | None = None
) -> CustomActionRunner | None:
    """The runner for resolved `endpoints["action_endpoint"]`, or None when there is none.

    `actions_module` wins over `url`: the module is imported from `project_root` (as
    `rasa run actions` imports from the current folder). Raises ActionConfigError.
    """
    if isinstance(endpoints, Endpoints):
        section = endpoints.action_endpoint
        raw: Any = section.settings if section is not None else None
    else:
        raw = endpoints.get("action_endpoint") if endpoints else None
    if not raw:
        return None
    config = parse_action_endpoint(raw, project_root)
    return runner_for(config, project_root)


def runner_for(
    config: ActionEndpointConfig, project_root: Path | None = None
) -> CustomActionRunner:
    if config.actions_module:
        if project_root is not None and str(project_root) not in sys.path:
            sys.path.insert(0, str(project_root))
        return InProcessActionRunner.from_module(config.actions_module, config.timeout)
    return HttpActionRunner(config)
