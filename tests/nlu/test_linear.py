from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import sparse

from parley.nlu.linear import DEFAULT_TEMPERATURE, LinearModel


def _blobs(n: int, seed: int = 0) -> tuple[sparse.csr_matrix, list[str]]:
    rng = np.random.default_rng(seed)
    centers = np.eye(4, 8) * 3
    labels = [f"c{i % 4}" for i in range(n)]
    points = np.stack([centers[i % 4] + rng.normal(scale=1.2, size=8) for i in range(n)])
    return sparse.csr_matrix(points), labels


def test_confidences_are_calibrated_on_held_out_data() -> None:
    features, labels = _blobs(800)
    model = LinearModel.train(features, labels)
    assert model.temperature != DEFAULT_TEMPERATURE
    test, truth = _blobs(800, seed=1)
    probs = model.batch_probabilities(test)
    predicted = [model.labels[i] for i in probs.argmax(axis=1)]
    accuracy = np.mean([p == t for p, t in zip(predicted, truth, strict=True)])
    # calibrated: the mean top confidence is close to the accuracy actually reached
    assert abs(probs.max(axis=1).mean() - accuracy) < 0.05
    assert np.allclose(probs.sum(axis=1), 1.0)


def test_single_message_scores_match_batch_and_persist(tmp_path: Path) -> None:
    features, labels = _blobs(300)
    model = LinearModel.train(features, labels)
    row = features[5]
    single = model.probabilities(row.indices.astype(np.int32), row.data.astype(np.float32))
    assert np.allclose(single, model.batch_probabilities(row)[0], atol=1e-6)
    model.persist(tmp_path)
    loaded = LinearModel.load(tmp_path)
    assert loaded.labels == model.labels and loaded.temperature == model.temperature
    assert np.array_equal(loaded.weights, model.weights)


def test_two_classes_give_two_probabilities() -> None:
    features = sparse.csr_matrix(np.array([[1.0, 0], [0, 1.0], [1.0, 0.1], [0.1, 1.0]]))
    model = LinearModel.train(features, ["a", "b", "a", "b"])
    probs = model.probabilities(np.array([0], np.int32), np.array([1.0], np.float32))
    assert model.labels == ["a", "b"] and probs[0] > 0.9
