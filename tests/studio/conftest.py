"""A studio on a temporary project: an access store with one user per built-in role, a SQLite
tracker store seeded with conversations, and a copy of the help-desk project's data files."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from parley.access.service import Access
from parley.agent import Agent
from parley.cli.init import template_dir
from parley.server import AgentHolder, ParleyServer, ServerConfig, create_app
from parley.stores.sql import SQLTrackerStore
from parley.stores.sql_engine import SQLSettings
from parley.studio.service import Studio
from tests.access.conftest import access, helpdesk, password_hash  # noqa: F401 (fixtures)

NLU_COMMENT = "# Farewells: keep them short.\n"
DAY = 86400.0
T0 = 1_780_000_000.0  # 2026-05-28 UTC, a fixed day for the date filters


def user(text: str, intent: str, confidence: float, at: float, channel: str = "rest",
         model: str = "m1", entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "event": "user",
        "timestamp": at,
        "text": text,
        "input_channel": channel,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities or [],
        },
        "metadata": {"model_id": model},
    }


def action(name: str, at: float, policy: str = "RulePolicy", confidence: float = 1.0,
           model: str = "m1") -> dict[str, Any]:  # fmt: skip
    return {"event": "action", "timestamp": at, "name": name, "policy": policy,
            "confidence": confidence, "metadata": {"model_id": model}}  # fmt: skip


def bot(text: str, at: float) -> dict[str, Any]:
    return {"event": "bot", "timestamp": at, "text": text}


def slot(name: str, value: Any, at: float) -> dict[str, Any]:
    return {"event": "slot", "timestamp": at, "name": name, "value": value}


async def seed(store: SQLTrackerStore) -> None:
    """Four conversations with known channels, models, intents, confidences and outcomes."""
    await store.append("alpha", [
        user("hello there", "greet", 0.97, T0),
        action("utter_greet", T0 + 1),
        bot("Hi!", T0 + 1),
        user("my printer is on fire", "report_problem", 0.91, T0 + 2,
             entities=[{"entity": "device", "value": "printer", "start": 3, "end": 10}]),
        slot("device", "printer", T0 + 2),
        action("action_handoff_to_human", T0 + 3, "TEDPolicy", 0.8),
    ])  # fmt: skip
    await store.append("bravo", [
        user("zzz qqq blorp", "goodbye", 0.31, T0 + DAY, channel="socketio", model="m2"),
        action("action_default_fallback", T0 + DAY + 1, model="m2"),
    ])  # fmt: skip
    await store.append("charlie", [
        user("see ya around", "greet", 0.42, T0 + 2 * DAY, model="m2"),
        action("utter_greet", T0 + 2 * DAY + 1, model="m2"),
    ])  # fmt: skip
    await store.append("delta", [
        user("thanks a lot", "thank", 0.95, T0 + 3 * DAY),
        user("thanks again", "thank", 0.93, T0 + 3 * DAY + 5),
        user("really, thanks", "thank", 0.94, T0 + 3 * DAY + 9),
    ])  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The help-desk project's data/ with a comment above the goodbye intent."""
    root = tmp_path / "project"
    shutil.copytree(template_dir() / "data", root / "data")
    shutil.copy(template_dir() / "domain.yml", root / "domain.yml")
    nlu = root / "data" / "nlu.yml"
    nlu.write_text(
        nlu.read_text().replace(
            "  - intent: goodbye", "  " + NLU_COMMENT + "  - intent: goodbye", 1
        )
    )
    return root


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLTrackerStore]:
    store = await SQLTrackerStore.open(SQLSettings(db="studio.db"), tmp_path)
    await seed(store)
    yield store
    await store.close()


@pytest.fixture
def studio(store: SQLTrackerStore, project: Path, access: Access) -> Studio:  # noqa: F811
    return Studio(store, project, access)


@pytest.fixture
def server(studio: Studio, access: Access, helpdesk: Agent) -> ParleyServer:  # noqa: F811
    config = ServerConfig(enable_api=True)
    return create_app(AgentHolder(helpdesk, None), config, access=access, studio=studio)
