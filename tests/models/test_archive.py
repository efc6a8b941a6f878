from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from parley.models import (
    ModelManifest,
    fingerprint,
    latest_model,
    read_manifest,
    unpack_archive,
    write_archive,
)
from parley.models.archive import ModelArchiveError
from parley.project import NLUExample


def test_archive_round_trips_parts_and_manifest(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    (staging / "nlu").mkdir(parents=True)
    (staging / "nlu" / "meta.json").write_text(json.dumps({"labels": ["greet"]}))
    manifest = ModelManifest.new({"nlu": "abc"}, ("nlu",), assistant_id="bot")
    path = write_archive(staging, manifest, tmp_path / "models")
    assert path.name.startswith(manifest.model_id)
    assert read_manifest(path) == manifest
    loaded, folder = unpack_archive(path)
    assert loaded.fingerprints == {"nlu": "abc"}
    assert json.loads((folder / "nlu" / "meta.json").read_text()) == {"labels": ["greet"]}
    assert latest_model(tmp_path / "models") == path


def test_archive_with_a_link_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        data = b"{}"
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("nlu/evil")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    with pytest.raises(ModelArchiveError, match="not a plain file"):
        unpack_archive(bad)


def test_not_an_archive_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_text("hello")
    with pytest.raises(ModelArchiveError, match="not a Parley model archive"):
        read_manifest(junk)


def test_fingerprint_ignores_source_positions_but_not_content() -> None:
    from parley.project import Location

    a = NLUExample("hi", "greet", location=Location(Path("a.yml"), 1, 1))
    b = NLUExample("hi", "greet", location=Location(Path("b.yml"), 9, 9))
    c = NLUExample("hello", "greet")
    assert fingerprint([a]) == fingerprint([b])
    assert fingerprint([a]) != fingerprint([c])


def _archive_of_zeros(path: Path, files: int, size: int) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for i in range(files):
            info = tarfile.TarInfo(f"nlu/zeros-{i}")
            info.size = size
            tar.addfile(info, io.BytesIO(bytes(size)))
    return path


def test_an_archive_over_the_unpacked_size_is_refused_before_writing(tmp_path: Path) -> None:
    bomb = _archive_of_zeros(tmp_path / "bomb.tar.gz", 1, 3_000_000)
    assert bomb.stat().st_size < 20_000  # zeros compress well: the size is in the header only
    target = tmp_path / "out"
    with pytest.raises(ModelArchiveError, match="2000000 bytes unpacked"):
        unpack_archive(bomb, target, max_bytes=2_000_000)
    assert not target.exists()


def test_an_archive_of_too_many_entries_is_refused(tmp_path: Path) -> None:
    many = _archive_of_zeros(tmp_path / "many.tar.gz", 30, 1)
    with pytest.raises(ModelArchiveError, match="more than 20 entries"):
        unpack_archive(many, tmp_path / "out", max_members=20)


@pytest.mark.parametrize("filters", [True, False], ids=["with filters", "python<3.11.4"])
def test_archive_member_outside_the_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, filters: bool
) -> None:
    import parley.models.archive as archive

    monkeypatch.setattr(archive, "_SAFE_FILTER", filters)
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        for name in ("manifest.json", "../escaped.json"):
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"{}"))
    with pytest.raises(ModelArchiveError):
        unpack_archive(bad, tmp_path / "out")
    assert not (tmp_path / "escaped.json").exists()
