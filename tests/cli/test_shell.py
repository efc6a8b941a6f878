from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from parley.cli.main import app
from parley.dialogue.part import DialoguePart
from parley.project import load_project
from parley.training import train_project
from tests.conftest import EXAMPLES


def test_shell_chats_with_intent_messages_and_buttons(tmp_path: Path) -> None:
    project = tmp_path / "moodbot"
    shutil.copytree(EXAMPLES / "moodbot", project)
    train_project(load_project(project), project / "models", parts=[DialoguePart()])
    result = CliRunner().invoke(
        app, ["shell", "--project", str(project)], input="/greet\n/mood_unhappy\n/deny\n/stop\n"
    )
    assert result.exit_code == 0, result.output
    assert "No NLU in this model" in result.output
    out = result.output
    assert out.index("Hey! How are you?") < out.index("Image: https://i.imgur.com/nGF1K8f.jpg")
    assert out.index("Did that help you?") < out.index("Bye")


def test_shell_without_a_model_says_to_train(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["shell", "--project", str(tmp_path)])
    assert result.exit_code != 0
    assert "parley train" in str(result.exception)
