"""`parley data purge|delete`, `parley keys generate|rotate` and `parley export` on real files."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from sqlalchemy import Row, create_engine, text
from typer.testing import CliRunner

from parley.cli.main import app
from parley.stores import EncryptionKey, EventCipher, create_tracker_store

runner = CliRunner()
NOW = time.time()


def seed(project: Path, cipher: EventCipher | None = None) -> None:
    async def run() -> None:
        store = await create_tracker_store({}, project, cipher or EventCipher(None))
        old = NOW - 120 * 86400
        await store.append("old", [{"event": "user", "timestamp": old, "text": "old secret"}])
        await store.append(
            "new",
            [
                {
                    "event": "user",
                    "timestamp": NOW,
                    "text": "new secret",
                    "metadata": {"event_id": "f" * 32},
                }
            ],
        )
        await store.close()

    asyncio.run(run())


def senders(project: Path) -> list[str]:
    async def run() -> list[str]:
        store = await create_tracker_store({}, project, EventCipher(None))
        names = await store.senders()
        await store.close()
        return sorted(names)

    return asyncio.run(run())


def sqlite_rows(database: Path, query: str) -> list[Row[Any]]:
    """Raw rows of a SQLite file, read around the stores."""
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        rows = list(connection.execute(text(query)).all())
    engine.dispose()
    return rows


def test_purge_deletes_conversations_older_than_the_cutoff(tmp_path: Path) -> None:
    seed(tmp_path)
    result = runner.invoke(app, ["data", "purge", "--older-than", "90d", "-p", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 conversation(s)" in result.output
    assert senders(tmp_path) == ["new"]


def test_purge_rejects_a_malformed_duration(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "purge", "--older-than", "ninety", "-p", str(tmp_path)])
    assert result.exit_code != 0
    assert "write e.g. 90d" in result.output


def test_delete_erases_one_conversation(tmp_path: Path) -> None:
    seed(tmp_path)
    result = runner.invoke(app, ["data", "delete", "old", "-p", str(tmp_path)])
    assert result.exit_code == 0 and "Deleted conversation 'old'" in result.output
    assert senders(tmp_path) == ["new"]
    missing = runner.invoke(app, ["data", "delete", "old", "-p", str(tmp_path)])
    assert missing.exit_code == 1 and "No conversation 'old'" in missing.output


def test_keys_rotate_reencrypts_the_sqlite_store(tmp_path: Path) -> None:
    old = EncryptionKey.generate()
    seed(tmp_path, EventCipher(old))
    generated = runner.invoke(app, ["keys", "generate"])
    new = EncryptionKey.from_base64(generated.output.strip())
    env = {
        "PARLEY_ENCRYPTION_KEY": new.to_base64(),
        "PARLEY_ENCRYPTION_PREVIOUS_KEYS": old.to_base64(),
    }
    result = runner.invoke(app, ["keys", "rotate", "-p", str(tmp_path)], env=env)
    assert result.exit_code == 0, result.output
    assert f"Re-encrypted 2 event(s) with key {new.key_id}" in result.output
    rows = sqlite_rows(tmp_path / "parley.db", "SELECT key_id, body FROM parley_events")
    assert {row.key_id for row in rows} == {new.key_id}
    assert not any("secret" in row.body for row in rows)


def test_keys_rotate_without_a_key_says_what_to_set(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["keys", "rotate", "-p", str(tmp_path)], env={"PARLEY_ENCRYPTION_KEY": ""}
    )
    assert result.exit_code != 0
    assert "PARLEY_ENCRYPTION_KEY is not set" in str(result.exception)


def test_export_replays_stored_events_to_the_sql_broker(tmp_path: Path) -> None:
    seed(tmp_path)
    (tmp_path / "endpoints.yml").write_text(
        "event_broker:\n  type: sql\n  dialect: sqlite\n  db: events.db\n", encoding="utf-8"
    )
    result = runner.invoke(
        app, ["export", "-p", str(tmp_path), "--minimum-timestamp", str(NOW - 86400)]
    )
    assert result.exit_code == 0, result.output
    assert "Published 1 event(s)" in result.output
    rows = sqlite_rows(tmp_path / "events.db", "SELECT event_id, data FROM parley_broker_events")
    assert [row.event_id for row in rows] == ["f" * 32]
    assert json.loads(rows[0].data)["sender_id"] == "new"


def test_export_without_a_broker_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "-p", str(tmp_path)])
    assert result.exit_code != 0
    assert "no event_broker" in str(result.exception)


@pytest.mark.parametrize("style", ["iso", "epoch"])
def test_export_accepts_iso_and_epoch_times(tmp_path: Path, style: str) -> None:
    seed(tmp_path)
    (tmp_path / "endpoints.yml").write_text(
        "event_broker:\n  type: sql\n  db: events.db\n", encoding="utf-8"
    )
    cutoff = NOW - 60 * 86400
    value = datetime.fromtimestamp(cutoff).isoformat() if style == "iso" else str(cutoff)
    result = runner.invoke(app, ["export", "-p", str(tmp_path), "--maximum-timestamp", value])
    assert result.exit_code == 0, result.output
    assert "Published 1 event(s)" in result.output  # only the old conversation's event


def test_commands_read_a_given_endpoints_file(tmp_path: Path) -> None:
    seed(tmp_path)
    other = tmp_path / "elsewhere.yml"
    other.write_text("tracker_store:\n  type: sql\n  db: other.db\n", encoding="utf-8")
    result = runner.invoke(
        app, ["data", "delete", "old", "-p", str(tmp_path), "--endpoints", str(other)]
    )
    assert result.exit_code == 1 and "No conversation 'old'" in result.output  # other.db is empty
    assert (tmp_path / "other.db").is_file()


@pytest.mark.integration
def test_export_to_rabbitmq_carries_the_stored_event_ids(tmp_path: Path) -> None:
    seed(tmp_path)
    queue, exchange = f"parley_export_{uuid.uuid4().hex[:8]}", f"parley_x_{uuid.uuid4().hex[:8]}"
    (tmp_path / "endpoints.yml").write_text(
        "event_broker:\n  type: pika\n  url: 127.0.0.1\n  username: guest\n"
        "  password: ${PARLEY_TEST_RABBITMQ_PASSWORD}\n"
        f"  queues: [{queue}]\n  exchange_name: {exchange}\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        ["export", "-p", str(tmp_path), "--conversation-ids", "new"],
        env={"PARLEY_TEST_RABBITMQ_PASSWORD": "guest"},
    )
    assert result.exit_code == 0, result.output
    assert "Published 1 event(s)" in result.output

    async def consume() -> list[tuple[str | None, dict]]:
        connection = await aio_pika.connect_robust("amqp://guest:guest@127.0.0.1:5672/")
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, durable=True)
        received = []
        while (message := await declared.get(fail=False)) is not None:
            received.append((message.message_id, json.loads(message.body)))
            await message.ack()
        await declared.delete(if_unused=False, if_empty=False)
        await channel.exchange_delete(exchange)
        await connection.close()
        return received

    received = asyncio.run(consume())
    assert [(mid, body["sender_id"], body["text"]) for mid, body in received] == [
        ("f" * 32, "new", "new secret")
    ]


def test_delete_also_erases_the_sql_brokers_copies(tmp_path: Path) -> None:
    seed(tmp_path)
    (tmp_path / "endpoints.yml").write_text(
        "event_broker:\n  type: sql\n  db: events.db\n", encoding="utf-8"
    )
    assert runner.invoke(app, ["export", "-p", str(tmp_path)]).exit_code == 0
    result = runner.invoke(app, ["data", "delete", "new", "-p", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 published event(s)" in result.output
    rows = sqlite_rows(tmp_path / "events.db", "SELECT data FROM parley_broker_events")
    assert [json.loads(row.data)["sender_id"] for row in rows] == ["old"]
