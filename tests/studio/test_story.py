"""A conversation becomes a test story: `parley data export-story ID` and the studio's button
write a story that `parley test` replays green against the model that had the conversation."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import yaml
from typer.testing import CliRunner

from parley.cli.main import app
from parley.server import ParleyServer
from parley.stores.sql import SQLTrackerStore
from parley.stores.sql_engine import SQLSettings
from parley.studio.story import annotate
from tests.access.conftest import login
from tests.server.helpdesk import helpdesk_agent, helpdesk_model


def test_entities_are_marked_in_the_text() -> None:
    text = "reset the password of jdoe on the laptop"
    entities = [
        {"entity": "device", "value": "laptop", "start": 34, "end": 40},
        {"entity": "username", "value": "john.doe", "start": 22, "end": 26},
    ]
    assert annotate(text, entities) == (
        'reset the password of [jdoe]{"entity": "username", "value": "john.doe"} on the '
        "[laptop](device)"
    )


def test_export_story_replays_green_with_parley_test(tmp_path: Path) -> None:
    root = tmp_path / "bot"
    shutil.copytree(helpdesk_model().parents[1], root, ignore=shutil.ignore_patterns("*.db*"))

    async def talk() -> None:
        store = await SQLTrackerStore.open(SQLSettings(), root)
        agent = helpdesk_agent(tracker_store=store)
        for text in ("hello", "when is the help desk open", "bye"):
            await agent.handle_message("visitor-7", text)
        await store.close()

    asyncio.run(talk())
    runner = CliRunner()
    story = tmp_path / "stories" / "test_visitor.yml"
    result = runner.invoke(
        app, ["data", "export-story", "visitor-7", "-p", str(root), "-o", str(story)]
    )
    assert result.exit_code == 0, result.output
    steps = yaml.safe_load(story.read_text())["stories"][0]["steps"]
    assert steps[0] == {"user": "hello\n", "intent": "greet"}
    assert {"user": "when is the help desk open\n", "intent": "faq/ask_hours"} in steps
    assert {"action": "utter_greet"} in steps and {"action": "action_listen"} not in steps
    replay = runner.invoke(
        app,
        [
            "test",
            "-p",
            str(root),
            "--model",
            str(root / "models"),
            "--stories",
            str(story),
            "--out",
            str(tmp_path / "r"),
        ],
    )
    assert replay.exit_code == 0, replay.output
    story.write_text(story.read_text().replace("intent: greet", "intent: goodbye"))
    tampered = runner.invoke(
        app,
        ["test", "-p", str(root), "--model", str(root / "models"), "--stories", str(story),
         "--out", str(tmp_path / "r2")],
    )  # fmt: skip
    assert tampered.exit_code != 0  # the replay does check the story
    missing = runner.invoke(app, ["data", "export-story", "nobody", "-p", str(root)])
    assert missing.exit_code == 1 and "No conversation 'nobody'" in missing.output


async def test_the_studio_button_downloads_the_story(server: ParleyServer) -> None:
    async with await login(server, "admin") as client:
        response = await client.get("/studio/conversations/alpha/story")
        page = (await client.get("/studio/conversations/alpha")).text
    assert response.status_code == 200
    assert 'filename="test_alpha.yml"' in response.headers["content-disposition"]
    steps = yaml.safe_load(response.text)["stories"][0]["steps"]
    assert steps[2] == {"user": "my [printer](device) is on fire\n", "intent": "report_problem"}
    assert 'id="story"' in page
