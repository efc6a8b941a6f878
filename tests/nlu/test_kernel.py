from __future__ import annotations

from pathlib import Path

import numpy as np

from parley.nlu.kernel import KernelOptions, RandomFeatureRidge


def _rings(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors on a 3-d sphere: class 1 near the north pole, class 0 near the equator."""
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, 2, n)
    height = np.where(classes == 1, rng.uniform(0.8, 1.0, n), rng.uniform(-0.3, 0.3, n))
    height *= rng.choice([-1, 1], n)  # both poles: no single direction separates the classes
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = np.sqrt(1 - height**2)
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle), height], axis=1)
    return points.astype(np.float32), classes


def test_kernel_scores_separate_classes_no_linear_model_can() -> None:
    train, train_classes = _rings(600, seed=0)
    test, test_classes = _rings(400, seed=1)
    head = RandomFeatureRidge.train(train, train_classes, 2, KernelOptions(features=512, gamma=2))
    accuracy = np.mean(head.scores(test).argmax(axis=1) == test_classes)
    # a linear score of x (what the SVM over the same vector computes) is near chance here
    linear, *_ = np.linalg.lstsq(np.hstack([train, np.ones((600, 1))]), train_classes, rcond=None)
    linear_accuracy = np.mean((np.hstack([test, np.ones((400, 1))]) @ linear > 0.5) == test_classes)
    assert accuracy > 0.95 and linear_accuracy < 0.7


def test_one_vector_scores_like_a_batch_and_survive_persisting(tmp_path: Path) -> None:
    train, classes = _rings(200, seed=2)
    head = RandomFeatureRidge.train(train, classes, 2, KernelOptions(features=64))
    assert np.allclose(head.scores(train[3]), head.scores(train)[3:4], atol=1e-5)
    head.persist(tmp_path, "k")
    loaded = RandomFeatureRidge.load(tmp_path, "k")
    assert np.array_equal(loaded.scores(train), head.scores(train))
