from __future__ import annotations

from pathlib import Path

import pytest

from parley.nlu.encoder_graph import cache_folder, encoder_graph, graph_name


def test_cache_folder_prefers_parley_cache_dir_then_xdg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PARLEY_CACHE_DIR", raising=False)
    assert cache_folder() == tmp_path / "xdg" / "parley"
    monkeypatch.setenv("PARLEY_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_folder() == tmp_path / "mine"


def test_graph_name_changes_with_the_tools_that_build_the_graph() -> None:
    name = graph_name()
    assert name.startswith("all-minilm-l6-v2-") and name.endswith("-int8.onnx")
    for tool in ("torch", "transformers", "ort"):
        assert f"-{tool}" in name
    assert "/" not in name and "+" not in name


def test_a_cached_graph_is_reused_not_exported_again(tmp_path: Path) -> None:
    cached = tmp_path / graph_name()
    cached.write_bytes(b"graph")
    assert encoder_graph(tmp_path) == cached
    assert cached.read_bytes() == b"graph"
