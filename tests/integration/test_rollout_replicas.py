"""A rollout across three replicas sharing PostgreSQL (and Redis locks): sticky assignment,
steps, rollback, automatic rollback on a guard, and shadow evaluation of a candidate."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from parley.agent import Agent
from parley.cli.init import template_dir
from parley.models.guards import RolloutPlan
from parley.models.service import Releases, open_releases
from parley.project import load_project
from parley.server.app import ParleyServer
from parley.server.bootstrap import ProjectFiles, build_server
from parley.server.config import ServerConfig
from parley.stores.sql import SQLTrackerStore
from parley.stores.sql_engine import SQLSettings
from parley.testing.shadow import shadow_evaluate
from parley.training import train_project
from tests.stores.conftest import drop_redis_keys, drop_schema, unique_name

pytestmark = pytest.mark.integration

SENDERS = [f"user-{i}" for i in range(10_000)]
CHANGED_TEXT = "my banana phone is ringing"


@dataclass(frozen=True)
class Models:
    project: Path
    control: Path  # the template as it is
    falls_back: Path  # FallbackClassifier threshold 1.0: every message falls back
    one_example_more: Path  # CHANGED_TEXT added as an example of `greet`


def _edit_yaml(path: Path, change: Any) -> None:
    yaml = YAML()
    data = yaml.load(path.read_text())
    change(data)
    with path.open("w") as handle:
        yaml.dump(data, handle)


def _train(project: Path, out: Path) -> Path:
    return train_project(load_project(project), out, force=True).model


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    root = tmp_path_factory.mktemp("rollout")
    project = root / "bot"
    shutil.copytree(template_dir(), project)
    control = _train(project, root / "control")

    strict = root / "strict"
    shutil.copytree(project, strict)

    def raise_threshold(config: Any) -> None:
        for component in config["pipeline"]:
            if component["name"] == "FallbackClassifier":
                component["threshold"] = 1.0

    _edit_yaml(strict / "config.yml", raise_threshold)
    falls_back = _train(strict, root / "falls-back")

    changed = root / "changed"
    shutil.copytree(project, changed)
    nlu = next(p for p in (changed / "data").glob("*.yml") if "nlu:" in p.read_text())

    def add_example(data: Any) -> None:
        for block in data["nlu"]:
            if block.get("intent") == "greet":
                block["examples"] = LiteralScalarString(f"{block['examples']}- {CHANGED_TEXT}\n")

    _edit_yaml(nlu, add_example)
    one_more = _train(changed, root / "one-more")
    return Models(project, control, falls_back, one_example_more=one_more)


@dataclass
class Cluster:
    replicas: list[ParleyServer]
    releases: Releases
    endpoints: dict[str, Any]
    project: Path

    async def refresh(self) -> None:
        for replica in self.replicas:
            router = replica.holder.router
            assert router is not None
            await router.refresh()  # what each replica's poll loop does every second

    def version_of(self, replica: int, sender_id: str) -> str | None:
        return self.replicas[replica].holder.agent_for(sender_id).model_id


@pytest.fixture
async def cluster(models: Models, tmp_path: Path) -> AsyncIterator[Cluster]:
    schema, prefix = unique_name("rollout"), unique_name("rollout")
    endpoints = {
        "tracker_store": {
            "type": "sql",
            "dialect": "postgresql",
            "url": "127.0.0.1",
            "db": "test",
            "username": "postgres",
            "schema": schema,
        },
        "lock_store": {"type": "redis", "url": "127.0.0.1", "key_prefix": prefix},
    }
    project = tmp_path / "bot"
    shutil.copytree(models.project, project)
    (project / "endpoints.yml").write_text(_yaml_text(endpoints))
    releases = await open_releases(endpoints, project)
    for archive in (models.control, models.falls_back, models.one_example_more):
        await releases.registry.register(archive, trained_by="test")
    control_version = models.control.name.removesuffix(".tar.gz")
    await releases.registry.tag(control_version, "production")
    replicas = [
        await build_server(ProjectFiles(project, model=models.control), ServerConfig())
        for _ in range(3)
    ]
    try:
        yield Cluster(replicas, releases, endpoints, project)
    finally:
        for replica in replicas:
            router = replica.holder.router
            if router is not None:
                await router.close()
            await replica.holder.agent.close()
        await releases.close()
        await drop_schema(schema)
        await drop_redis_keys(prefix)


def _yaml_text(data: dict[str, Any]) -> str:
    import io

    buffer = io.StringIO()
    YAML().dump(data, buffer)
    return buffer.getvalue()


def _version(archive: Path) -> str:
    return archive.name.removesuffix(".tar.gz")


async def _talk(cluster: Cluster, senders: list[str], text: str = "hello") -> None:
    for i, sender in enumerate(senders):
        replica = cluster.replicas[i % 3]
        await replica.holder.agent_for(sender).handle_message(sender, text)


async def _stored_versions(cluster: Cluster, sender: str) -> list[str]:
    store = cluster.replicas[0].holder.agent.tracker_store  # type: ignore[attr-defined]
    events = await store.load(sender) or []
    return [e["metadata"]["model_id"] for e in events if e.get("event") == "user"]


async def test_ten_percent_sticky_across_three_replicas_then_step_and_rollback(
    cluster: Cluster, models: Models
) -> None:
    control, candidate = _version(models.control), _version(models.one_example_more)
    # a fixed experiment id: the buckets, so the shares below, are the same on every run
    await cluster.releases.start(candidate, 10, experiment_id="exp-replicas-test")
    await cluster.refresh()
    on_candidate = {s for s in SENDERS if cluster.version_of(0, s) == candidate}
    assert 0.09 <= len(on_candidate) / len(SENDERS) <= 0.11
    for replica in (1, 2):
        assert {s for s in SENDERS if cluster.version_of(replica, s) == candidate} == on_candidate

    # real turns through different replicas: each event records the version that served it
    sample = SENDERS[:150]
    await _talk(cluster, sample)
    await _talk(cluster, sample[::-1])  # each sender's second turn on another replica
    for sender in sample:
        expected = candidate if sender in on_candidate else control
        assert await _stored_versions(cluster, sender) == [expected, expected]

    await cluster.releases.rollouts.step(20)
    await cluster.refresh()
    stepped = {s for s in SENDERS if cluster.version_of(1, s) == candidate}
    assert on_candidate < stepped
    assert 0.19 <= len(stepped) / len(SENDERS) <= 0.21

    await cluster.releases.rollouts.rollback(reason="test")
    await cluster.refresh()
    assert {cluster.version_of(2, s) for s in SENDERS} == {control}
    moved = next(iter(on_candidate & set(sample)))
    await _talk(cluster, [moved])
    assert (await _stored_versions(cluster, moved))[-1] == control


async def test_replicas_follow_a_change_within_two_seconds(
    cluster: Cluster, models: Models
) -> None:
    candidate = _version(models.one_example_more)
    loops = [asyncio.create_task(r.holder.router.run()) for r in cluster.replicas]  # type: ignore[union-attr]
    try:
        await asyncio.sleep(0.2)
        await cluster.releases.start(candidate, 50)
        started = asyncio.get_running_loop().time()
        while not all(
            any(r.holder.agent_for(s).model_id == candidate for s in SENDERS[:50])
            for r in cluster.replicas
        ):
            assert asyncio.get_running_loop().time() - started < 2.0, "a replica lagged"
            await asyncio.sleep(0.05)
    finally:
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)


async def test_promotion_serves_the_candidate_to_everyone(cluster: Cluster, models: Models) -> None:
    candidate = _version(models.one_example_more)
    await cluster.releases.start(candidate, 10)
    await cluster.refresh()
    await cluster.releases.promote()
    await cluster.refresh()
    for replica in cluster.replicas:
        assert replica.holder.agent.model_id == candidate
        assert {replica.holder.agent_for(s).model_id for s in SENDERS[:500]} == {candidate}
    assert (await cluster.releases.registry.resolve("production")).version == candidate
    # a replica started later (no --model, nothing in models/) serves the production tag
    late = await build_server(ProjectFiles(cluster.project), ServerConfig())
    try:
        assert late.holder.agent.model_id == candidate
    finally:
        await late.holder.router.close()  # type: ignore[union-attr]
        await late.holder.agent.close()


async def test_a_candidate_that_falls_back_more_is_rolled_back_automatically(
    cluster: Cluster, models: Models
) -> None:
    plan = RolloutPlan.from_json(
        {
            "steps": [{"percent": 50}, {"percent": 100}],
            "advance_when": {"fallback_rate": {"max_worse": 0.02}},
            "rollback_when": {"fallback_rate": {"max_worse": 0.05}},
        }
    )
    await cluster.releases.start(_version(models.falls_back), 50, plan=plan)
    await cluster.refresh()
    await _talk(cluster, [f"guest-{i}" for i in range(120)], "hello there")
    store = cluster.replicas[0].holder.agent.tracker_store  # type: ignore[attr-defined]
    evaluation = await cluster.releases.evaluate(store)
    assert evaluation is not None
    assert evaluation.decision.action == "rollback", evaluation.decision.reason
    assert await cluster.releases.rollouts.running() is None
    await cluster.refresh()
    assert {cluster.version_of(0, s) for s in SENDERS[:300]} == {_version(models.control)}


async def test_an_equal_candidate_is_not_stepped_up_on_little_evidence(
    cluster: Cluster, models: Models
) -> None:
    plan = RolloutPlan.from_json(
        {
            "steps": [{"percent": 50}, {"percent": 100}],
            "advance_when": {"fallback_rate": {"max_worse": 0.02}},
            "rollback_when": {"fallback_rate": {"max_worse": 0.10}},
        }
    )
    experiment = await cluster.releases.start(_version(models.one_example_more), 50, plan=plan)
    await cluster.refresh()
    await _talk(cluster, [f"guest-{i}" for i in range(40)], "I forgot my password")
    store = cluster.replicas[0].holder.agent.tracker_store  # type: ignore[attr-defined]
    evaluation = await cluster.releases.evaluate(store)
    assert evaluation is not None and evaluation.decision.action == "wait"
    assert (await cluster.releases.rollouts.get(experiment.id)).percent == 50


async def test_shadow_evaluation_reports_exactly_the_turns_the_changed_example_alters(
    models: Models, tmp_path: Path
) -> None:
    production = Agent.load(models.control)
    candidate = Agent.load(models.one_example_more)
    store = await SQLTrackerStore.open(SQLSettings(), tmp_path)
    production.tracker_store = store
    texts = [
        "hello",
        "I forgot my password",
        "how do I reset my password",
        CHANGED_TEXT,
        "thanks",
        "can I talk to a human",
        "what is onedrive",
        "bye",
    ]
    for i in range(1000):
        sender = f"c{i}"
        for text in (texts[i % len(texts)], texts[(i * 3 + 1) % len(texts)]):
            await production.handle_message(sender, text)
    report = await shadow_evaluate(candidate, store, limit=1000)
    assert report.conversations == 1000 and report.turns == 2000

    # the truth, turn by turn: what each model says on its own
    expected: set[tuple[str, int]] = set()
    for sender in await store.senders():
        events = await store.load(sender) or []
        for index, event in enumerate(events):
            if event.get("event") != "user":
                continue
            ours, theirs = (
                await production.parse(event["text"]),
                await candidate.parse(event["text"]),
            )
            if ours["intent"]["name"] != theirs["intent"]["name"] or _ents(ours) != _ents(theirs):
                expected.add((sender, index))
    reported_nlu = {
        (d.sender_id, d.event_index)
        for d in report.diffs
        if {"intent", "entities"} & set(d.changed)
    }
    assert reported_nlu == expected
    changed_turns = [d for d in report.diffs if d.text == CHANGED_TEXT]
    assert changed_turns and all(d.candidate_intent == "greet" for d in changed_turns)
    await store.close()


def _ents(parse: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((str(e["entity"]), str(e["value"])) for e in parse.get("entities", []))


async def test_the_admin_api_drives_the_rollout_and_reports_metrics(
    cluster: Cluster, models: Models
) -> None:
    import httpx

    server = await build_server(
        ProjectFiles(cluster.project, model=models.control),
        ServerConfig(enable_api=True, auth_token="rollout-admin-token"),
    )
    admin = {"Authorization": "Bearer rollout-admin-token"}
    candidate = _version(models.one_example_more)
    transport = httpx.ASGITransport(app=server)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/admin/rollout")).status_code == 401
            listed = (await client.get("/admin/models", headers=admin)).json()
            assert {v["version"] for v in listed} >= {candidate, _version(models.control)}
            started = await client.post(
                "/admin/rollout", json={"candidate": candidate, "percent": 30}, headers=admin
            )
            assert started.status_code == 201, started.text
            again = await client.post(
                "/admin/rollout", json={"candidate": candidate, "percent": 30}, headers=admin
            )
            assert again.status_code == 400 and "still running" in again.text
            await server.holder.router.refresh()  # type: ignore[union-attr]
            for i in range(60):
                reply = await client.post(
                    "/webhooks/rest/webhook", json={"sender": f"api-{i}", "message": "hello"}
                )
                assert reply.status_code == 200
            status = (await client.get("/admin/rollout", headers=admin)).json()
            metrics = status["metrics"]
            assert (
                metrics[candidate]["conversations"]
                + metrics[_version(models.control)]["conversations"]
                == 60
            )
            assert metrics[candidate]["conversations"] > 0
            exposition = (await client.get("/metrics")).text
            assert f'parley_version_turns_total{{model_id="{candidate}"}}' in exposition
            stepped = await client.post("/admin/rollout/step", json={"percent": 60}, headers=admin)
            assert stepped.json()["percent"] == 60
            back = await client.post("/admin/rollout/rollback", json={"reason": "x"}, headers=admin)
            assert back.json()["status"] == "rolled_back"
            none = await client.post("/admin/rollout/promote", json={}, headers=admin)
            assert none.status_code == 409
    finally:
        await server.holder.router.close()  # type: ignore[union-attr]
        await server.holder.agent.close()
