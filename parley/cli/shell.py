"""`parley shell`: chat with the trained assistant in the terminal, through the Agent."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from parley.cli.app import console, shell_app
from parley.models.archive import latest_model

if TYPE_CHECKING:
    from parley.agent import Agent

STOP = "/stop"


def _show(message: dict[str, Any]) -> list[str]:
    """Print one bot message; return the payloads of its buttons (chosen by number)."""
    if message.get("text"):
        console.print(message["text"], style="cyan", markup=False, highlight=False)
    if message.get("image"):
        console.print(f"Image: {message['image']}", style="cyan", markup=False)
    if message.get("attachment"):
        console.print(f"Attachment: {message['attachment']}", style="cyan", markup=False)
    if message.get("custom"):
        console.print(json.dumps(message["custom"], ensure_ascii=False), style="cyan", markup=False)
    payloads: list[str] = []
    for index, button in enumerate(message.get("buttons") or [], start=1):
        console.print(f"  {index}: {button.get('title')} ({button.get('payload')})", markup=False)
        payloads.append(str(button.get("payload")))
    return payloads


async def _chat(agent: Agent, sender_id: str) -> None:
    payloads: list[str] = []
    while True:
        try:
            text = typer.prompt("Your input ->", prompt_suffix=" ").strip()
        except (EOFError, typer.Abort):
            break
        if text == STOP:
            break
        if text.isdigit() and 0 < int(text) <= len(payloads):
            text = payloads[int(text) - 1]  # a button, chosen by its number
        payloads = []
        for message in await agent.handle_message(sender_id, text, input_channel="cmdline"):
            payloads += _show(message)
        tracker = await agent.get_tracker(sender_id)
        if tracker.paused:
            console.print("(handed off to a human; the bot stays silent)", style="yellow")
    await agent.close()


@shell_app.callback(invoke_without_command=True)
def shell(
    ctx: typer.Context,
    project: Path = typer.Option(Path("."), "--project", "-p", help="Project folder."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Model archive to use."),
    sender_id: str | None = typer.Option(None, "--sender", help="Conversation id."),
) -> None:
    """Chat with the assistant; `/intent{"entity": "value"}` messages work without NLU.

    Type /stop to end; type a button's number to press it.
    """
    if ctx.invoked_subcommand is not None:  # e.g. `parley shell nlu`
        return
    from parley.agent import Agent, AgentError

    path = model or latest_model(project / "models")
    if path is None:
        raise AgentError(f"no model in {project / 'models'}; train one with `parley train`")
    from parley.action_runners.factory import load_action_runner

    runner = load_action_runner(project) if (project / "endpoints.yml").is_file() else None
    agent = Agent.load(path, action_runner=runner)
    if agent.interpreter is None:
        console.print('No NLU in this model: send intents as /intent{"entity": "value"}.')
    custom = [a for a in agent.domain.actions if a not in agent.domain.forms]
    if custom and runner is None:
        console.print(
            f"Custom actions ({', '.join(custom[:5])}…) need an action server; "
            "without one they answer with the fallback.",
            style="yellow",
            markup=False,
        )
    console.print(f"Chatting with {path.name}; type {STOP} to end.", style="dim", markup=False)
    asyncio.run(_chat(agent, sender_id or f"shell-{uuid.uuid4().hex[:8]}"))
