from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from parley.nlu.component import NLUError, TrainingSet
from parley.nlu.message import Message
from parley.nlu.pipeline import Pipeline
from parley.nlu.static_vectors import StaticWordVectorsFeaturizer, shared_vectors
from parley.project import NLUData, NLUExample
from parley.project.config import ComponentConfig, ProjectConfig


def _cosine(a: str, b: str) -> float:
    table = shared_vectors()
    return float(table.vector(a) @ table.vector(b))


def test_message_vectors_have_unit_length_and_empty_texts_are_zero() -> None:
    table = shared_vectors()
    assert table.dimension == 256
    assert np.isclose(np.linalg.norm(table.vector("reset my password please")), 1.0, atol=1e-5)
    assert not table.vector("   ").any()


def test_texts_that_mean_the_same_are_closer_than_unrelated_ones() -> None:
    assert _cosine("i forgot my password", "reset my login credentials") > _cosine(
        "i forgot my password", "will it rain tomorrow"
    )
    assert _cosine("goodbye", "farewell") > _cosine("goodbye", "pizza")


def test_featurizer_appends_weighted_vectors_to_the_dense_columns() -> None:
    featurizer = StaticWordVectorsFeaturizer("StaticWordVectorsFeaturizer", {"weight": 2.0})
    messages = [Message("hello there"), Message("book a table")]
    training = TrainingSet(messages, NLUData(()), dense=np.ones((2, 3), np.float32))
    featurizer.train(training)
    assert training.static is not None and training.dense is not None
    assert training.dense.shape == (2, 3 + 256)
    assert np.allclose(training.dense[:, 3:], 2.0 * training.static)
    message = Message("hello there")
    featurizer.process(message)
    assert message.static is not None and np.allclose(message.static, training.static[0])
    assert message.dense is not None and np.allclose(message.dense, 2.0 * message.static)


def test_a_model_from_another_table_warns_and_one_of_another_size_is_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    featurizer = StaticWordVectorsFeaturizer("StaticWordVectorsFeaturizer", {})
    featurizer.persist(tmp_path)
    meta_path = tmp_path / "static_vectors.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "table_sha256": "0" * 64}))
    with caplog.at_level(logging.WARNING):
        featurizer.restore(tmp_path)
    assert any("another Parley's word vectors" in r.message for r in caplog.records)
    meta_path.write_text(json.dumps({**meta, "dimension": 300}))
    with pytest.raises(NLUError, match="300-dimensional word vectors"):
        featurizer.restore(tmp_path)


def test_words_never_seen_in_training_are_understood_through_their_meaning(
    tmp_path: Path,
) -> None:
    examples = [
        ("hello", "greet"), ("hi there", "greet"), ("good morning", "greet"), ("hey", "greet"),
        ("bye", "goodbye"), ("see you later", "goodbye"), ("good night", "goodbye"),
        ("cheerio", "goodbye"), ("i am hungry", "food"), ("order a pizza", "food"),
        ("get me a burger", "food"), ("i want lunch", "food"),
    ]  # fmt: skip
    data = NLUData(tuple(NLUExample(text, intent) for text, intent in examples))
    words = (ComponentConfig("WhitespaceTokenizer"), ComponentConfig("CountVectorsFeaturizer"))
    classifier = ComponentConfig("DIETClassifier", {"entity_recognition": False})
    unseen = {"farewell": "goodbye", "greetings": "greet", "sandwich": "food", "dinner": "food"}

    def correct(pipeline: Pipeline) -> int:
        return sum(pipeline.parse(t)["intent"]["name"] == i for t, i in unseen.items())

    static = (ComponentConfig("StaticWordVectorsFeaturizer"),)
    with_vectors = Pipeline.train(ProjectConfig(pipeline=(*words, *static, classifier)), data)
    without = Pipeline.train(ProjectConfig(pipeline=(*words, classifier)), data)
    assert correct(with_vectors) == len(unseen) > correct(without)
    with_vectors.persist(tmp_path / "nlu")
    loaded = Pipeline.load(tmp_path / "nlu")
    assert loaded.parse("farewell my friend") == with_vectors.parse("farewell my friend")
