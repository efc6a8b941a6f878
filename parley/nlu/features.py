"""Sparse text features: word and character n-grams (TF-IDF) and regex/lookup matches.

One `SparseFeaturizer` serves training (a CSR matrix over many messages) and parsing (indices and
values for one message) with the same code, so both see exactly the same features.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from parley.nlu.component import TrainingSet
from parley.nlu.lexical import EntityGazetteer, lexical_grams
from parley.nlu.message import Message, Token
from parley.nlu.tokenizer import word_tokens
from parley.project.entities import EntityAnnotation
from parley.project.nlu_data import LookupTable, RegexPattern

if TYPE_CHECKING:  # matrices are built for training only; parsing one message needs numpy
    from scipy import sparse


@dataclass(frozen=True)
class NgramChannel:
    """One CountVectorsFeaturizer: `analyzer` is `word`, `char_wb` or `char`; or Parley's
    `lexical` (LexicalSyntacticFeaturizer) and `entities` (`lexical.EntityGazetteer`) channels.
    Each channel's row is L2-normalised, then scaled by `weight`."""

    analyzer: str = "word"
    min_ngram: int = 1
    max_ngram: int = 1
    lowercase: bool = True
    min_df: int = 1
    weight: float = 1.0


@dataclass(frozen=True)
class PatternFeature:
    """A regex (or a lookup table turned into one) that is a feature when it matches."""

    name: str
    pattern: str


def lookup_pattern(table: LookupTable, word_boundaries: bool = True) -> str:
    """One alternation regex matching any element of a lookup table."""
    alternatives = "|".join(re.escape(e) for e in sorted(table.elements, key=len, reverse=True))
    return rf"\b(?:{alternatives})\b" if word_boundaries else f"(?:{alternatives})"


def pattern_features(
    regexes: tuple[RegexPattern, ...],
    lookups: tuple[LookupTable, ...],
    use_regexes: bool = True,
    use_lookup_tables: bool = True,
    use_word_boundaries: bool = True,
) -> list[PatternFeature]:
    out: list[PatternFeature] = []
    if use_regexes:
        out += [PatternFeature(r.name, p) for r in regexes for p in r.patterns]
    if use_lookup_tables:
        out += [
            PatternFeature(t.name, lookup_pattern(t, use_word_boundaries))
            for t in lookups
            if t.elements
        ]
    return out


# Weights of the lexical and entity channels beside the n-gram channels (each 1)
LEXICAL_WEIGHT = 0.5
ENTITY_WEIGHT = 0.5
_WORD_CACHE_SIZE = 200_000  # (channel, word) entries kept by a featurizer before it starts over


@lru_cache(maxsize=131072)  # words repeat: each word's character n-grams are cut once
def _word_grams(word: str, low: int, high: int) -> tuple[str, ...]:
    padded = f" {word} "
    return tuple(
        padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)
    )


def _grams(channel: NgramChannel, tokens: list[Token], text: str) -> list[str]:
    words = [t.text.lower() if channel.lowercase else t.text for t in word_tokens(tokens)]
    out: list[str] = []
    if channel.analyzer == "word":
        for n in range(channel.min_ngram, channel.max_ngram + 1):
            out.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
        return out
    if channel.analyzer == "char_wb":
        for word in words:
            out.extend(_word_grams(word, channel.min_ngram, channel.max_ngram))
        return out
    flat = " ".join(words)
    for n in range(channel.min_ngram, channel.max_ngram + 1):
        out.extend(flat[i : i + n] for i in range(len(flat) - n + 1))
    return out


class SparseFeaturizer:
    """TF-IDF n-gram channels plus binary pattern features, each n-gram channel L2-normalised."""

    def __init__(
        self,
        channels: list[NgramChannel],
        patterns: list[PatternFeature] | None = None,
        case_sensitive_patterns: bool = True,
        lexical: list[list[str]] | None = None,
    ) -> None:
        self.channels = channels
        self.patterns = patterns or []
        self.case_sensitive_patterns = case_sensitive_patterns
        self.lexical = tuple(tuple(window) for window in lexical or ())
        self.gazetteer = EntityGazetteer({}, {})
        self.vocabularies: list[dict[str, int]] = [{} for _ in channels]
        self.idf: list[np.ndarray] = [np.zeros(0, np.float32) for _ in channels]
        self._offsets: list[int] = []
        self._compiled: list[re.Pattern[str]] = []
        self._word_indices: dict[tuple[int, str], tuple[int, ...]] = {}

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.vocabularies) + len(self.patterns)

    def _prepare(self) -> None:
        self._word_indices = {}
        self._offsets = []
        offset = 0
        for vocab in self.vocabularies:
            self._offsets.append(offset)
            offset += len(vocab)
        self._offsets.append(offset)  # pattern features start here
        flags = 0 if self.case_sensitive_patterns else re.IGNORECASE
        self._compiled = [re.compile(p.pattern, flags) for p in self.patterns]

    def _channel_grams(self, channel: NgramChannel, tokens: list[Token], text: str) -> list[str]:
        if channel.analyzer == "lexical":
            return lexical_grams(word_tokens(tokens), self.lexical)
        if channel.analyzer == "entities":
            return self.gazetteer.grams(word_tokens(tokens))
        return _grams(channel, tokens, text)

    def train(
        self,
        texts: list[str],
        tokens: list[list[Token]],
        entities: list[tuple[EntityAnnotation, ...]] | None = None,
    ) -> sparse.csr_matrix:
        """Learn vocabularies and IDF from the training texts (and the entity gazetteer from
        their `entities`); return their feature matrix."""
        n_docs = len(texts)
        if entities is not None:
            self.gazetteer = EntityGazetteer.learn(texts, entities)
        grams = [
            [
                self._channel_grams(channel, toks, text)
                for text, toks in zip(texts, tokens, strict=True)
            ]
            for channel in self.channels
        ]
        for c, channel in enumerate(self.channels):
            df: Counter[str] = Counter()
            for doc in grams[c]:
                df.update(set(doc))
            kept = sorted(g for g, count in df.items() if count >= channel.min_df)
            self.vocabularies[c] = {g: i for i, g in enumerate(kept)}
            self.idf[c] = np.array(
                [math.log((1 + n_docs) / (1 + df[g])) + 1.0 for g in kept], dtype=np.float32
            )
        self._prepare()
        return self._batch_matrix(texts, grams)

    def _batch_matrix(self, texts: list[str], grams: list[list[list[str]]]) -> sparse.csr_matrix:
        """Many messages at once, vectorised; the same values as `vectorize` gives one by one."""
        from scipy import sparse

        n_docs = len(texts)
        blocks = []
        for c, docs in enumerate(grams):
            vocab = self.vocabularies[c]
            lookup = vocab.get
            cols = np.fromiter((lookup(g, -1) for doc in docs for g in doc), dtype=np.int64)
            rows = np.repeat(np.arange(n_docs), [len(doc) for doc in docs])
            known = cols >= 0
            counts = sparse.csr_matrix(
                (np.ones(int(known.sum()), np.float64), (rows[known], cols[known])),
                shape=(n_docs, len(vocab)),
            )
            counts.sum_duplicates()
            counts.data = (1.0 + np.log(counts.data)) * self.idf[c][counts.indices]
            rows_scaled = _unit_rows(counts)
            if self.channels[c].weight != 1.0:
                rows_scaled.data *= self.channels[c].weight
            blocks.append(rows_scaled)
        if self._compiled:
            hits = [
                (d, p)
                for d, text in enumerate(texts)
                for p, compiled in enumerate(self._compiled)
                if compiled.search(text)
            ]
            blocks.append(
                sparse.csr_matrix(
                    (np.ones(len(hits)), ([d for d, _ in hits], [p for _, p in hits])),
                    shape=(n_docs, len(self._compiled)),
                )
            )
        if not blocks:
            return sparse.csr_matrix((n_docs, 0), dtype=np.float32)
        return sparse.hstack(blocks, format="csr", dtype=np.float32)

    def transform(self, texts: list[str], tokens: list[list[Token]]) -> sparse.csr_matrix:
        return self._matrix(
            [self.vectorize(text, toks) for text, toks in zip(texts, tokens, strict=True)]
        )

    def _matrix(self, rows: list[tuple[np.ndarray, np.ndarray]]) -> sparse.csr_matrix:
        from scipy import sparse

        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(i) for i, _ in rows])
        indices = np.concatenate([i for i, _ in rows]) if rows else np.zeros(0, np.int32)
        values = np.concatenate([v for _, v in rows]) if rows else np.zeros(0, np.float32)
        return sparse.csr_matrix((values, indices, indptr), shape=(len(rows), self.size))

    def vectorize(self, text: str, tokens: list[Token]) -> tuple[np.ndarray, np.ndarray]:
        """(indices, values) of one message: the lean single-message path used when parsing."""
        return self._vector(
            text, [self._known(c, channel, tokens, text) for c, channel in enumerate(self.channels)]
        )

    def _known(self, c: int, channel: NgramChannel, tokens: list[Token], text: str) -> list[int]:
        """Vocabulary indices of the message's n-grams in channel `c` (unknown ones dropped).
        A word's character n-grams depend on the word alone, so their indices are kept per word
        (words repeat: most of a message's n-grams are looked up once per process)."""
        vocab = self.vocabularies[c]
        if channel.analyzer != "char_wb":
            found = self._channel_grams(channel, tokens, text)
            return [i for i in map(vocab.get, found) if i is not None]
        known: list[int] = []
        cache = self._word_indices
        for token in word_tokens(tokens):
            word = token.text.lower() if channel.lowercase else token.text
            indices = cache.get((c, word))
            if indices is None:
                if len(cache) >= _WORD_CACHE_SIZE:
                    cache.clear()
                grams = _word_grams(word, channel.min_ngram, channel.max_ngram)
                indices = tuple(i for i in map(vocab.get, grams) if i is not None)
                cache[(c, word)] = indices
            known.extend(indices)
        return known

    def _vector(self, text: str, known: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        all_idx: list[int] = []
        all_val: list[float] = []
        for c, channel_known in enumerate(known):
            if not channel_known:
                continue
            counts = Counter(channel_known)
            idf = self.idf[c]
            weights = [(1.0 + math.log(n)) * float(idf[i]) for i, n in counts.items()]
            norm = (math.sqrt(sum(w * w for w in weights)) or 1.0) / self.channels[c].weight
            offset = self._offsets[c]
            all_idx.extend(offset + i for i in counts)
            all_val.extend(w / norm for w in weights)
        base = self._offsets[-1]
        for p, compiled in enumerate(self._compiled):
            if compiled.search(text):
                all_idx.append(base + p)
                all_val.append(1.0)
        return np.array(all_idx, dtype=np.int32), np.array(all_val, dtype=np.float32)

    def persist(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "channels": [asdict(c) for c in self.channels],
            "patterns": [asdict(p) for p in self.patterns],
            "case_sensitive_patterns": self.case_sensitive_patterns,
            "lexical": [list(window) for window in self.lexical],
            "gazetteer": self.gazetteer.as_json(),
            "vocabularies": [sorted(v, key=v.__getitem__) for v in self.vocabularies],
        }
        (folder / "featurizer.json").write_text(json.dumps(meta, ensure_ascii=False))
        np.savez(folder / "idf.npz", *self.idf)

    @classmethod
    def load(cls, folder: Path) -> SparseFeaturizer:
        meta = json.loads((folder / "featurizer.json").read_text())
        featurizer = cls(
            [NgramChannel(**c) for c in meta["channels"]],
            [PatternFeature(**p) for p in meta["patterns"]],
            bool(meta["case_sensitive_patterns"]),
            meta.get("lexical"),
        )
        featurizer.gazetteer = EntityGazetteer.from_json(meta.get("gazetteer") or {})
        featurizer.vocabularies = [{g: i for i, g in enumerate(v)} for v in meta["vocabularies"]]
        with np.load(folder / "idf.npz", allow_pickle=False) as arrays:
            featurizer.idf = [arrays[f"arr_{i}"] for i in range(len(featurizer.channels))]
        featurizer._prepare()
        return featurizer


class SparseFeaturesComponent:
    """Every CountVectorsFeaturizer and RegexFeaturizer of a config, as one featurizer.

    `options`: `channels` (NgramChannel fields), `regex` (RegexFeaturizer options or None),
    `lexical` (LexicalSyntacticFeaturizer's `features` windows or None), `entity_features`
    (True when entities are learned with the intents, as in DIET: `lexical.EntityGazetteer`).
    """

    kind = "sparse_features"

    def __init__(self, name: str, options: dict[str, object]) -> None:
        self.name = name
        self.options = options
        self.featurizer: SparseFeaturizer | None = None

    def train(self, training: TrainingSet) -> None:
        regex = self.options.get("regex")
        patterns: list[PatternFeature] = []
        case_sensitive = True
        if isinstance(regex, dict):
            patterns = pattern_features(
                training.data.regexes,
                training.data.lookups,
                bool(regex.get("use_regexes", True)),
                bool(regex.get("use_lookup_tables", True)),
                bool(regex.get("use_word_boundaries", True)),
            )
            case_sensitive = bool(regex.get("case_sensitive", True))
        channels = [NgramChannel(**c) for c in self.options.get("channels", [])]  # type: ignore[attr-defined]
        lexical = self.options.get("lexical")
        if isinstance(lexical, list):
            channels.append(NgramChannel("lexical", weight=LEXICAL_WEIGHT))
        entity_features = bool(self.options.get("entity_features"))
        if entity_features:
            channels.append(NgramChannel("entities", weight=ENTITY_WEIGHT))
        self.featurizer = SparseFeaturizer(
            channels, patterns, case_sensitive, lexical if isinstance(lexical, list) else None
        )
        messages = training.messages
        training.sparse = self.featurizer.train(
            [m.text for m in messages],
            [m.tokens for m in messages],
            [m.gold_entities for m in messages] if entity_features else None,
        )

    def process(self, message: Message) -> None:
        assert self.featurizer is not None
        message.sparse = self.featurizer.vectorize(message.text, message.tokens)

    def persist(self, folder: Path) -> None:
        assert self.featurizer is not None
        self.featurizer.persist(folder)

    def restore(self, folder: Path) -> None:
        self.featurizer = SparseFeaturizer.load(folder)


def _unit_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """Scale each row to unit L2 norm in place (empty rows stay empty). Written here rather
    than taken from scikit-learn so that parsing never imports it (start time, memory)."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    norms = np.sqrt(np.bincount(rows, matrix.data**2, matrix.shape[0]))
    norms[norms == 0.0] = 1.0
    matrix.data /= np.repeat(norms, np.diff(matrix.indptr))
    return matrix
