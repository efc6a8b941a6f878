"""The helpdesk example's custom actions in "localmode", as an in-process action runner.

Written from the descriptions in ../shared/examples/helpdesk/README.md; it speaks Rasa's
action-server protocol (request: next_action/tracker/domain; reply: events + responses), so the
engine runs it exactly as it would run a remote action server.
"""

from __future__ import annotations

from typing import Any

from parley.dialogue.custom import ActionServerError

PRIORITIES = ("low", "medium", "high")
HANDOFF_HOSTS = {"financial_demo": {"title": "Financial Assistant", "url": "http://localhost:5006"}}


def _slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value, "timestamp": None}


def _slots_to_validate(tracker: dict[str, Any]) -> dict[str, Any]:
    """Slots set since the latest user message (what Rasa SDK's form validation looks at)."""
    found: dict[str, Any] = {}
    for event in reversed(tracker["events"]):
        if event["event"] == "user":
            break
        if event["event"] == "slot" and event["name"] != "requested_slot":
            found.setdefault(event["name"], event["value"])
    return found


class HelpdeskActions:
    """A `CustomActionRunner` for the helpdesk assistant; records every call it gets."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.opened: list[dict[str, Any]] = []

    async def run(self, action_name: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(action_name)
        handler = getattr(self, action_name, None)
        if handler is None:
            raise ActionServerError(action_name, "no such action in the helpdesk fixture")
        tracker = payload["tracker"]
        events, responses = handler(tracker, tracker["slots"])
        return {"events": events, "responses": responses}

    async def close(self) -> None:
        return None

    def action_ask_email(self, tracker: dict[str, Any], slots: dict[str, Any]) -> Any:
        name = "utter_ask_use_previous_email" if slots.get("previous_email") else "utter_ask_email"
        return [], [{"response": name}]

    def _validate_email(self, value: Any, slots: dict[str, Any]) -> list[dict[str, Any]]:
        if not value:
            return [_slot("email", None), _slot("previous_email", None)]
        if isinstance(value, bool):
            value = slots.get("previous_email")
        return [_slot("email", value)]

    def validate_open_incident_form(self, tracker: dict[str, Any], slots: dict[str, Any]) -> Any:
        events: list[dict[str, Any]] = []
        responses: list[dict[str, Any]] = []
        for name, value in _slots_to_validate(tracker).items():
            if name == "email":
                events += self._validate_email(value, slots)
            elif name == "priority":
                if isinstance(value, str) and value.lower() in PRIORITIES:
                    events.append(_slot("priority", value.lower()))
                else:
                    responses.append({"response": "utter_no_priority"})
                    events.append(_slot("priority", None))
            else:
                events.append(_slot(name, value))
        return events, responses

    def validate_incident_status_form(self, tracker: dict[str, Any], slots: dict[str, Any]) -> Any:
        values = _slots_to_validate(tracker)
        if "email" not in values:
            return [], []
        return self._validate_email(values["email"], slots), []

    def _reset(self, slots: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"event": "reset_slots"}, _slot("previous_email", slots.get("email"))]

    def action_open_incident(self, tracker: dict[str, Any], slots: dict[str, Any]) -> Any:
        if slots.get("confirm") is False:
            return self._reset(slots), [{"response": "utter_incident_creation_canceled"}]
        incident = {k: slots.get(k) for k in ("email", "priority", "problem_description")}
        incident["title"] = slots.get("incident_title")
        self.opened.append(incident)
        text = (
            "An incident with the following details would be opened if ServiceNow was "
            f"configured:\nemail: {incident['email']}\n"
            f"problem description: {incident['problem_description']}\n"
            f"title: {incident['title']}\npriority: {incident['priority']}"
        )
        return self._reset(slots), [{"text": text}]

    def action_check_incident_status(self, tracker: dict[str, Any], slots: dict[str, Any]) -> Any:
        text = (
            "Since ServiceNow isn't connected, I'm making this up!\n"
            f"The most recent incident for {slots.get('email')} is currently awaiting triage"
        )
        return self._reset(slots), [{"text": text}]

    def action_handoff_options(self, tracker: dict[str, Any], slots: dict[str, Any]) -> Any:
        hosts = {k: v for k, v in HANDOFF_HOSTS.items() if v.get("url")}
        if not hosts:
            return [], [{"response": "utter_no_handoff"}]
        buttons = [
            {"title": v["title"], "payload": f'/trigger_handoff{{"handoff_to":"{k}"}}'}
            for k, v in hosts.items()
        ]
        text = "I can't transfer you to a human, but I can transfer you to one of these bots"
        return [], [{"text": text, "buttons": buttons}]

    def action_handoff(self, tracker: dict[str, Any], slots: dict[str, Any]) -> Any:
        responses: list[dict[str, Any]] = [{"response": "utter_handoff"}]
        host = HANDOFF_HOSTS.get(str(slots.get("handoff_to")))
        if host is None:
            responses.append({"response": "utter_no_handoff"})
        elif tracker.get("latest_input_channel") == "rest":
            responses.append({"custom": {"handoff_host": host["url"], "title": host["title"]}})
        else:
            responses.append({"response": "utter_wouldve_handed_off", "handoffhost": host["url"]})
        return [_slot("handoff_to", None)], responses
