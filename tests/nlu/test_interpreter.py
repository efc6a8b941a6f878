from __future__ import annotations

import threading
from pathlib import Path

import pytest

from parley.models import unpack_archive
from parley.nlu import Interpreter, NLUError, load


def test_parse_returns_rasa_parse_result_shape(interpreter: Interpreter) -> None:
    result = interpreter.parse("hello there")
    assert set(result) == {"text", "intent", "entities", "intent_ranking", "response_selector"}
    assert result["text"] == "hello there"
    assert result["intent"]["name"] == "greet"
    assert 0.5 < result["intent"]["confidence"] <= 1.0
    ranking = result["intent_ranking"]
    assert ranking[0] == result["intent"]
    assert [r["confidence"] for r in ranking] == sorted(
        (r["confidence"] for r in ranking), reverse=True
    )
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-4
    assert result["response_selector"]["all_retrieval_intents"] == ["faq"]


def test_from_folder_loads_an_unpacked_nlu_part(nlubot_model: Path, tmp_path: Path) -> None:
    _, folder = unpack_archive(nlubot_model, tmp_path / "unpacked")
    interpreter = Interpreter.from_folder(folder / "nlu")
    assert interpreter.parse("goodbye, see you")["intent"]["name"] == "goodbye"


def test_model_folder_holds_only_json_and_numpy(nlubot_model: Path, tmp_path: Path) -> None:
    _, folder = unpack_archive(nlubot_model, tmp_path / "unpacked")
    suffixes = {p.suffix for p in (folder / "nlu").rglob("*") if p.is_file()}
    assert suffixes <= {".json", ".npy", ".npz"}


def test_loading_a_missing_model_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(NLUError, match="train"):
        load(tmp_path / "nothing.tar.gz")


def test_parse_is_thread_safe(interpreter: Interpreter) -> None:
    texts = ["hello", "bye bye", "fly from Paris to Rome", "where are you located?"] * 25
    expected = {t: interpreter.parse(t) for t in set(texts)}
    seen: list[bool] = []

    def work() -> None:
        seen.extend(interpreter.parse(t) == expected[t] for t in texts)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 400 and all(seen)
