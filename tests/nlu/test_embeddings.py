from __future__ import annotations

from pathlib import Path

import pytest

from parley.nlu.embeddings import embeddings_available
from parley.nlu.pipeline import Pipeline
from parley.project import NLUData, NLUExample
from parley.project.config import ComponentConfig, ProjectConfig

pytestmark = pytest.mark.skipif(
    not embeddings_available(), reason="parley[embeddings] is not installed"
)

EXAMPLES = {
    "weather": ["what's the forecast", "will it be sunny", "how hot is it outside", "is it cold"],
    "music": ["play some jazz", "put on my playlist", "next song please", "turn up the volume"],
}


def test_sentence_embeddings_classify_paraphrases_without_shared_words(tmp_path: Path) -> None:
    data = NLUData(tuple(NLUExample(t, i) for i, texts in EXAMPLES.items() for t in texts))
    config = ProjectConfig(
        pipeline=(
            ComponentConfig("WhitespaceTokenizer"),
            ComponentConfig("CountVectorsFeaturizer"),
            ComponentConfig("LanguageModelFeaturizer"),
            ComponentConfig("DIETClassifier"),
        )
    )
    pipeline = Pipeline.train(config, data)
    assert "dense_features" in [s.kind for s in pipeline.steps]
    for text, intent in [
        ("do I need an umbrella today", "weather"),
        ("i want to hear a tune", "music"),
    ]:
        assert pipeline.parse(text)["intent"]["name"] == intent
    pipeline.persist(tmp_path / "nlu")
    assert {p.suffix for p in (tmp_path / "nlu").rglob("*.*")} <= {".json", ".npy", ".npz"}
    loaded = Pipeline.load(tmp_path / "nlu")
    assert loaded.parse("do I need an umbrella today") == pipeline.parse(
        "do I need an umbrella today"
    )
