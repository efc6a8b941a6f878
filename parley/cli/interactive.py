"""`parley interactive`: talk to the assistant, confirm or correct each intent, entity and
action, then save the conversation as a story and its messages as NLU examples in `data/`."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from parley.cli.app import app, console

if TYPE_CHECKING:  # the session's modules load the engine: imported when the command runs
    from parley.interactive import InteractiveSession, Suggestion
    from parley.project.entities import EntityAnnotation

STOP = "/stop"
MAX_ACTIONS = 10  # per turn: a teacher who keeps adding actions is asked to listen


def _ask(prompt: str) -> str:
    return typer.prompt(prompt, default="", show_default=False, prompt_suffix=" ").strip()


def _choose_intent(session: InteractiveSession, suggestion: Suggestion) -> str:
    ranking = suggestion.ranking[:5]
    console.print(
        f"Intent: {suggestion.intent} ({suggestion.confidence:.2f})",
        highlight=False,
    )
    for number, (name, confidence) in enumerate(ranking, start=1):
        console.print(f"  {number}: {name} ({confidence:.2f})", highlight=False)
    known = session.intents
    while True:
        answer = _ask("Correct? [Enter = yes, a number, or the intent's name]")
        if not answer and suggestion.intent:
            return str(suggestion.intent)
        if answer.isdigit() and 0 < int(answer) <= len(ranking):
            return ranking[int(answer) - 1][0]
        if answer in known:
            return answer
        console.print(f"Not an intent of the domain: {', '.join(known)}", highlight=False)


def _choose_entities(
    text: str, found: tuple[EntityAnnotation, ...]
) -> tuple[str, tuple[EntityAnnotation, ...]]:
    from parley.project.entities import AnnotationError, parse_annotated

    shown = ", ".join(f"{e.entity}={e.value!r}" for e in found) or "none"
    console.print(f"Entities: {shown}", highlight=False)
    while True:
        answer = _ask("Correct? [Enter = yes, or the message with [value](entity) marks]")
        if not answer:
            return text, found
        try:
            plain, entities = parse_annotated(answer)
        except AnnotationError as exc:
            console.print(f"{exc}; try again", highlight=False)
            continue
        if plain != text:
            console.print("Keep the message's words; only add the marks.", highlight=False)
            continue
        return plain, entities


def _choose_action(session: InteractiveSession) -> str:
    prediction = session.predict()
    action = prediction.action or "action_listen"
    console.print(
        f"Next action: {action} ({prediction.policy_name}, {prediction.confidence:.2f})",
        highlight=False,
    )
    actions = session.actions
    while True:
        answer = _ask("Correct? [Enter = yes, l = list, or the action's name or number]")
        if not answer:
            return str(action)
        if answer == "l":
            for number, name in enumerate(actions, start=1):
                console.print(f"  {number}: {name}", highlight=False)
            continue
        if answer.isdigit() and 0 < int(answer) <= len(actions):
            return str(actions[int(answer) - 1])
        if answer in actions:
            return answer
        console.print("Not an action of the domain; type l for the list.", highlight=False)


async def _converse(session: InteractiveSession) -> bool:
    """The conversation; False when nothing was said."""
    said = False
    while True:
        try:
            text = _ask("Your input ->")
        except (EOFError, typer.Abort):
            break
        if text == STOP:
            break
        if not text:
            continue
        said = True
        suggestion = await session.suggest(text)
        intent = _choose_intent(session, suggestion)
        plain, entities = _choose_entities(text, suggestion.entities)
        await session.user_says(plain, intent, entities)
        for _ in range(MAX_ACTIONS):
            action = _choose_action(session)
            for message in await session.run(action):
                console.print(message.get("text") or message, style="cyan", highlight=False)
            if action == "action_listen":
                break
        else:
            await session.run("action_listen")
    return said


@app.command("interactive")
def interactive(
    project: Path = typer.Option(Path("."), "--project", "-p", help="Project folder."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Model archive to use."),
    stories_file: Path = typer.Option(
        Path("data/stories.yml"), "--stories", help="Where the story goes."
    ),
    nlu_file: Path = typer.Option(Path("data/nlu.yml"), "--nlu", help="Where the examples go."),
    retrain: bool = typer.Option(
        True, "--retrain/--no-retrain", help="Train again in the background."
    ),
) -> None:
    """Teach the assistant by talking to it; type /stop to save and end."""
    from parley.action_runners.factory import load_action_runner
    from parley.agent import Agent, AgentError
    from parley.interactive import InteractiveSession, save_examples, save_story
    from parley.models.archive import latest_model

    path = model or latest_model(project / "models")
    if path is None:
        raise AgentError(f"no model in {project / 'models'}; train one with `parley train`")
    runner = load_action_runner(project) if (project / "endpoints.yml").is_file() else None
    agent = Agent.load(path, action_runner=runner)
    name = f"interactive {datetime.now(UTC):%Y-%m-%d %H:%M:%S}"
    session = InteractiveSession(agent, name)
    console.print(f"Teaching model {path.name}; type /stop to save and end.", highlight=False)
    said = asyncio.run(_converse(session))
    if not said:
        console.print("Nothing to save.")
        return
    stories = stories_file if stories_file.is_absolute() else project / stories_file
    nlu = nlu_file if nlu_file.is_absolute() else project / nlu_file
    save_story(session.story, stories)
    added = save_examples(session.story.examples, nlu)
    console.print(
        f"Saved story '{name}' to {stories} and {added} example(s) to {nlu}.", highlight=False
    )
    if retrain:
        log = project / ".parley" / "interactive-train.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as out:
            subprocess.Popen(
                [sys.executable, "-m", "parley.cli.main", "train", "--project", str(project)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        console.print(f"Retraining in the background (log: {log}).", highlight=False)
