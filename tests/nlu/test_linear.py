from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import sparse

from parley.nlu.kernel import KernelOptions
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


def test_kernel_head_scores_are_added_calibrated_and_persisted(tmp_path: Path) -> None:
    features, labels = _blobs(400)
    dense = features.toarray()
    vectors = (dense / np.linalg.norm(dense, axis=1, keepdims=True)).astype(np.float32)
    options = KernelOptions(features=128, weight=0.5)
    model = LinearModel.train(features, labels, vectors=vectors, kernel=options)
    plain = LinearModel.train(features, labels)
    assert model.kernel is not None and model.kernel_weight == 0.5
    assert model.temperature != plain.temperature  # fitted on the summed scores
    row = features[7]
    indices, values = row.indices.astype(np.int32), row.data.astype(np.float32)
    expected = plain.scores(indices, values) + 0.5 * model.kernel.scores(vectors[7])[0]
    assert np.allclose(model.scores(indices, values, vectors[7]), expected, atol=1e-4)
    single = model.probabilities(indices, values, vectors[7])
    assert np.allclose(single, model.batch_probabilities(row, vectors[7:8])[0], atol=1e-6)
    model.persist(tmp_path)
    loaded = LinearModel.load(tmp_path)
    assert np.allclose(loaded.probabilities(indices, values, vectors[7]), single)
    disabled = LinearModel.train(
        features, labels, vectors=vectors, kernel=KernelOptions(features=0)
    )
    assert disabled.kernel is None
