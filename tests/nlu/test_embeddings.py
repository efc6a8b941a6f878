from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from parley.nlu.component import NLUError
from parley.nlu.embeddings import embeddings_available, shared_encoder
from parley.nlu.encoder_graph import POOLED_LAYERS
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


def train(dense: str, classifier: str) -> Pipeline:
    data = NLUData(tuple(NLUExample(t, i) for i, texts in EXAMPLES.items() for t in texts))
    names = ("WhitespaceTokenizer", "CountVectorsFeaturizer", dense, classifier)
    return Pipeline.train(ProjectConfig(pipeline=tuple(ComponentConfig(n) for n in names)), data)


def test_sentence_embeddings_classify_paraphrases_without_shared_words(tmp_path: Path) -> None:
    pipeline = train("LanguageModelFeaturizer", "DIETClassifier")
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


def test_a_text_gets_the_same_vector_alone_as_among_training_texts() -> None:
    encoder = shared_encoder()
    texts = [
        "wake me up at seven",
        "play jazz",
        "wake me up at seven",
        "what's the weather in Rome",
    ]
    together = encoder.encode(texts)
    assert together.shape == (4, encoder.dimension)
    for row, text in enumerate(texts):
        assert np.array_equal(together[row], encoder.encode([text])[0])
    layers = together.reshape(len(texts), len(POOLED_LAYERS), -1)  # one unit vector per layer
    assert np.allclose(np.linalg.norm(layers, axis=2), 1.0, atol=1e-5)


def test_model_from_another_encoder_build_loads_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    train("SentenceEmbeddingFeaturizer", "LinearIntentClassifier").persist(tmp_path)
    (meta_file,) = tmp_path.rglob("embeddings.json")
    meta = json.loads(meta_file.read_text())
    assert meta["encoder"] == "onnx-int8" and len(meta["graph_sha256"]) == 64
    meta["graph_sha256"] = "0" * 64
    meta_file.write_text(json.dumps(meta))
    with caplog.at_level(logging.WARNING):
        loaded = Pipeline.load(tmp_path)
    assert "another build of the sentence encoder" in caplog.text
    assert loaded.parse("is it cold")["intent"]["name"] == "weather"


def test_model_trained_on_vectors_of_another_size_asks_for_retraining(tmp_path: Path) -> None:
    train("SentenceEmbeddingFeaturizer", "LinearIntentClassifier").persist(tmp_path)
    (meta_file,) = tmp_path.rglob("embeddings.json")
    meta_file.write_text(json.dumps({**json.loads(meta_file.read_text()), "dimension": 384 - 1}))
    with pytest.raises(NLUError, match="retrain"):
        Pipeline.load(tmp_path)
