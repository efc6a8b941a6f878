from __future__ import annotations

from pathlib import Path

import numpy as np

from parley.nlu.features import NgramChannel, PatternFeature, SparseFeaturizer
from parley.nlu.tokenizer import tokenize

TEXTS = ["Book a table", "book two tables now", "cancel my order 12345"]


def _featurizer() -> SparseFeaturizer:
    return SparseFeaturizer(
        [NgramChannel("word", 1, 2), NgramChannel("char_wb", 2, 3)],
        [PatternFeature("number", r"\d{5}")],
    )


def test_batch_and_single_message_features_are_identical(tmp_path: Path) -> None:
    featurizer = _featurizer()
    matrix = featurizer.train(TEXTS, [tokenize(t) for t in TEXTS])
    for _ in range(2):  # the second time, words' character n-grams come from the cache
        for row, text in enumerate(TEXTS):
            indices, values = featurizer.vectorize(text, tokenize(text))
            single = np.zeros(featurizer.size, np.float32)
            single[indices] = values
            assert np.allclose(matrix[row].toarray()[0], single)
    featurizer.persist(tmp_path)
    loaded = SparseFeaturizer.load(tmp_path)
    assert np.array_equal(
        loaded.vectorize("book now", tokenize("book now"))[1],
        featurizer.vectorize("book now", tokenize("book now"))[1],
    )


def test_word_bigrams_char_grams_and_patterns_are_features() -> None:
    featurizer = _featurizer()
    featurizer.train(TEXTS, [tokenize(t) for t in TEXTS])
    words, chars = featurizer.vocabularies
    assert "book two" in words and "book" in words  # lowercased uni- and bigrams
    assert " b" in chars and "ok " in chars  # word-bounded character n-grams
    indices, values = featurizer.vectorize("order 99999", tokenize("order 99999"))
    assert featurizer.size - 1 in indices.tolist()  # the pattern feature fired
    assert values[indices.tolist().index(featurizer.size - 1)] == 1.0


def test_unknown_words_give_no_features() -> None:
    featurizer = SparseFeaturizer([NgramChannel("word", 1, 1)])
    featurizer.train(TEXTS, [tokenize(t) for t in TEXTS])
    indices, _ = featurizer.vectorize("zebra", tokenize("zebra"))
    assert len(indices) == 0
