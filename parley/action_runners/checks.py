"""`parley data validate` checks for custom actions: a usable `action_endpoint`."""

from __future__ import annotations

from typing import Any

from parley.action_runners.config import parse_action_endpoint
from parley.action_runners.errors import ActionConfigError
from parley.project.domain import BUILTIN_ACTIONS
from parley.project.errors import Location, ProblemSink
from parley.project.loader import Project
from parley.project.yamlio import key_location, read_yaml

ENDPOINTS_FILE = "endpoints.yml"
_URL_KEYS = ("url", "proxy")


def custom_action_names(project: Project) -> list[str]:
    """Actions of the domain that must run on an action server (or in-process)."""
    domain = project.domain
    intents = set(domain.intent_names)
    return [
        name
        for name in domain.actions
        if not name.startswith("utter_")
        and name not in BUILTIN_ACTIONS
        and name not in domain.forms
        # `respond_<retrieval intent>`: Rasa's retrieval action, answered from the responses
        and not (name.startswith("respond_") and name.removeprefix("respond_") in intents)
    ]


def check_action_endpoint(project: Project, sink: ProblemSink) -> None:
    """Custom actions need `action_endpoint`; its settings must be valid."""
    path = project.root / ENDPOINTS_FILE
    raw = project.endpoints.get("action_endpoint")
    if raw is None:
        custom = custom_action_names(project)
        if custom:
            # said where the actions are declared: a missing endpoints.yml has no line to show
            named = ", ".join(custom[:3]) + (", …" if len(custom) > 3 else "")
            where = project.domain.action_locations.get(custom[0]) or Location(
                project.root / "domain.yml"
            )
            sink.warning(
                where,
                f"the domain has custom actions ({named}) but no action_endpoint is set "
                f"in {ENDPOINTS_FILE}; they will fail when predicted (set url: or "
                "actions_module:)",
            )
        return
    try:
        parse_action_endpoint(_placeholders(raw), project.root, source=str(path))
    except ActionConfigError as exc:
        node = read_yaml(path, ProblemSink()) if path.is_file() else None
        at = key_location(path, node, "action_endpoint") if isinstance(node, dict) else None
        message = str(exc).removeprefix(f"{path}: ")
        sink.error(at or Location(path, 0, 0), message)


def _placeholders(value: Any, key: str = "") -> Any:
    """`${...}` references stand for valid values here; their resolution is checked elsewhere."""
    if isinstance(value, dict):
        return {k: _placeholders(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v, key) for v in value]
    if isinstance(value, str) and "${" in value:
        return "https://reference.invalid/" if key in _URL_KEYS else "r" * 64
    return value
