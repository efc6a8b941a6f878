from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from parley.sdk import ActionExecutor, ActionNotFoundException
from tests.action_runners.support import bank_request

PACKAGE = '''
import threading
from parley.sdk import Action
from parley.sdk.events import SlotSet

class Base(Action):
    """No name: a base class, not an action."""

class ActionSync(Base):
    def name(self):
        return "action_sync"

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text=threading.current_thread().name)
        return [SlotSet("x", 1), {"no_event_key": True}, "junk"]
'''


@pytest.fixture
def package(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "my_actions"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "sub" / "__init__.py").write_text("")
    (root / "sub" / "things.py").write_text(PACKAGE)
    sys.path.insert(0, str(tmp_path))
    yield "my_actions"
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("my_actions")]:
        del sys.modules[name]


async def test_package_actions_are_found_in_submodules_and_base_classes_skipped(
    package: str,
) -> None:
    executor = ActionExecutor()
    executor.register_package(package)
    assert executor.names == ["action_sync"]
    reply = await executor.run(bank_request("action_sync"))
    # a blocking action runs off the event loop; invalid events are dropped
    assert reply["responses"][0]["text"] != threading.current_thread().name
    assert reply["events"] == [{"event": "slot", "timestamp": None, "name": "x", "value": 1}]


async def test_unknown_action_is_reported_by_name() -> None:
    with pytest.raises(ActionNotFoundException, match="action_nope"):
        await ActionExecutor().run(bank_request("action_nope"))
