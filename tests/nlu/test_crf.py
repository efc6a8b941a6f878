from __future__ import annotations

from parley.nlu import Interpreter
from parley.project import Project


def _entities(interpreter: Interpreter, text: str, extractor: str) -> list[dict[str, object]]:
    return [e for e in interpreter.parse(text)["entities"] if e["extractor"] == extractor]


def test_crf_extracts_entities_with_roles_and_spans(interpreter: Interpreter) -> None:
    text = "book a flight from Berlin to Rome"
    found = {e["role"]: e for e in _entities(interpreter, text, "DIETClassifier")}
    assert found["departure"]["value"] == "Berlin" and found["destination"]["value"] == "Rome"
    departure = found["departure"]
    assert text[departure["start"] : departure["end"]] == "Berlin"  # type: ignore[misc]
    assert departure["entity"] == "city"
    assert 0.0 < departure["confidence_entity"] <= 1.0  # type: ignore[operator]


def test_crf_entities_pass_through_the_synonym_mapper(interpreter: Interpreter) -> None:
    found = _entities(interpreter, "flight from NYC to Boston", "DIETClassifier")
    nyc = next(e for e in found if e.get("role") == "departure")
    assert nyc["value"] == "New York" and nyc["processors"] == ["EntitySynonymMapper"]


def test_viterbi_and_marginals_match_brute_force_enumeration() -> None:
    import itertools

    import numpy as np

    from parley.nlu.crf import _marginals, _viterbi

    rng = np.random.default_rng(3)
    emissions = rng.normal(size=(4, 3)).astype(np.float32)
    transitions = rng.normal(size=(3, 3)).astype(np.float32)
    paths = list(itertools.product(range(3), repeat=4))
    scores = np.array(
        [
            sum(emissions[t, p[t]] for t in range(4))
            + sum(transitions[p[t - 1], p[t]] for t in range(1, 4))
            for p in paths
        ]
    )
    assert tuple(_viterbi(emissions, transitions)) == paths[int(scores.argmax())]
    probs = np.exp(scores - scores.max())
    probs /= probs.sum()
    expected = np.zeros((4, 3))
    for path, p in zip(paths, probs, strict=True):
        for t, label in enumerate(path):
            expected[t, label] += p
    assert np.allclose(_marginals(emissions, transitions), expected, atol=1e-5)


def test_same_data_trains_the_same_crf_however_many_trainings_came_before(
    nlubot: Project,
) -> None:
    from parley.nlu.component import TrainingSet
    from parley.nlu.crf import CRFEntityExtractor
    from parley.nlu.pipeline import training_messages

    def weights() -> list[float]:
        crf = CRFEntityExtractor("CRFEntityExtractor", {})
        crf.train(TrainingSet(training_messages(nlubot.nlu), nlubot.nlu, {}, "en"))
        return [float(w) for w in crf.state_weights]

    first = weights()
    assert weights() == first
    assert weights() == first


def test_emissions_from_cached_word_features_equal_those_of_the_feature_strings(
    interpreter: Interpreter,
) -> None:
    """Parsing keeps the attribute ids of a word's own and neighbour features per word; the
    scores must be exactly those of the strings CRFsuite was trained on."""
    import numpy as np

    from parley.nlu.crf import CRFEntityExtractor
    from parley.nlu.crf_features import token_feature_parts, token_features
    from parley.nlu.tokenizer import tokenize

    crf = next(c for c in interpreter.pipeline.components if isinstance(c, CRFEntityExtractor))
    texts = ["book a flight from Berlin to Rome", "Rome to Berlin, then Rome again", "hi"]
    for _ in range(2):  # the second time, word groups come from the cache
        for text in texts:
            for intent in (None, "book_flight"):
                tokens = tokenize(text)
                strings = token_features(text, tokens, intent, crf._compiled)
                expected = np.zeros((len(tokens), len(crf.labels)))
                for position, features in enumerate(strings):
                    for feature in features:
                        a = crf.attributes.get(feature)
                        if a is None:
                            continue
                        for k in range(crf.state_indptr[a], crf.state_indptr[a + 1]):
                            expected[position, crf.state_labels[k]] += crf.state_weights[k]
                parts = token_feature_parts(text, tokens, intent, crf._compiled)
                got = crf._emissions(len(parts), *crf._known(parts))
                assert np.abs(expected).sum() > 0  # "bias" at least is a known attribute
                assert np.allclose(got, expected, atol=1e-5)
