"""The model registry: register, tag, resolve and fetch archives on disk and in S3."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from parley.models.archive import ModelManifest, write_archive
from parley.models.registry import ModelRegistry, RegistryError, training_data_hash
from parley.models.storage import LocalStorage, S3Settings, S3Storage
from parley.stores.sql_engine import SQLSettings, create_engine, migrate
from tests.ports import free_port


def _archive(folder: Path, marker: str) -> Path:
    staging = folder / f"staging-{marker}"
    (staging / "nlu").mkdir(parents=True)
    (staging / "nlu" / "weights.json").write_text(f'{{"marker": "{marker}"}}')
    manifest = ModelManifest.new({"nlu": f"fp-{marker}"}, ("nlu",))
    return write_archive(staging, manifest, folder / "built")


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[ModelRegistry]:
    engine = create_engine(SQLSettings(), tmp_path)
    await migrate(engine)
    yield ModelRegistry(engine, LocalStorage(tmp_path / "models"))
    await engine.dispose()


async def test_a_registered_model_keeps_its_facts(registry: ModelRegistry, tmp_path: Path) -> None:
    archive = _archive(tmp_path, "a")
    version = await registry.register(
        archive, trained_by="ana", data_hash="abc", figures={"test": {"passed": 7, "total": 7}}
    )
    assert version.fingerprints == {"nlu": "fp-a"}
    assert version.trained_by == "ana" and version.data_hash == "abc"
    assert version.size_bytes == archive.stat().st_size
    assert (tmp_path / "models" / archive.name).is_file()
    await registry.record_figures(version.version, "test_nlu", {"accuracy": 0.93})
    stored = await registry.get(version.version)
    assert stored.figures == {"test": {"passed": 7, "total": 7}, "test_nlu": {"accuracy": 0.93}}
    with pytest.raises(RegistryError, match="already registered"):
        await registry.register(archive)


async def test_a_tag_names_one_version_at_a_time(registry: ModelRegistry, tmp_path: Path) -> None:
    first = await registry.register(_archive(tmp_path, "a"), tags=["production"])
    second = await registry.register(_archive(tmp_path, "b"))
    assert (await registry.resolve("production")).version == first.version
    await registry.tag(second.version, "production")
    assert (await registry.resolve("production")).version == second.version
    assert (await registry.get(first.version)).tags == ()
    listed = await registry.list()
    assert [v.version for v in listed] == [second.version, first.version]
    with pytest.raises(RegistryError, match="neither a registered model nor a tag"):
        await registry.resolve("staging")
    with pytest.raises(RegistryError, match="tag 'bad tag'"):
        await registry.tag(first.version, "bad tag")


async def test_fetch_gives_back_the_same_archive(registry: ModelRegistry, tmp_path: Path) -> None:
    archive = _archive(tmp_path, "a")
    version = await registry.register(archive)
    fetched = await registry.fetch(version.version, tmp_path / "cache")
    assert fetched.read_bytes() == archive.read_bytes()


def test_the_data_hash_follows_the_training_files(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "domain.yml").write_text("version: '3.1'\n")
    (tmp_path / "data" / "nlu.yml").write_text("nlu: []\n")
    before = training_data_hash(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "x.tar.gz").write_bytes(b"ignored")
    assert training_data_hash(tmp_path) == before
    (tmp_path / "data" / "nlu.yml").write_text("nlu: [{intent: greet}]\n")
    assert training_data_hash(tmp_path) != before


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server (moto's) on 127.0.0.1."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.integration
async def test_archives_round_trip_through_s3(
    s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    settings = S3Settings(
        bucket="parley-models",
        prefix="team/",
        endpoint_url=s3_endpoint,
        region="us-east-1",
        access_key_id="test",
        secret_access_key="test",
    )
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket="parley-models")
    engine = create_engine(SQLSettings(), tmp_path)
    await migrate(engine)
    registry = ModelRegistry(engine, S3Storage(settings))
    try:
        archive = _archive(tmp_path, "s3")
        version = await registry.register(archive, tags=["candidate"])
        listing = boto3.client(
            "s3",
            endpoint_url=s3_endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        ).list_objects_v2(Bucket="parley-models")
        assert [o["Key"] for o in listing["Contents"]] == [f"team/{archive.name}"]
        fetched = await registry.fetch(version.version, tmp_path / "elsewhere")
        assert fetched.read_bytes() == archive.read_bytes()
    finally:
        await engine.dispose()
