"""How sure the intent classifier may be: a confidence that also knows out-of-scope messages.

A softmax over the known intents always spreads 1.0 among them, so a message about something
else (or `asdkjh qwe`) still gets a confident intent. The score here adds three signals
(weights chosen by cross-validation on HWU64's train split with a quarter of the intents held
out as unknown, docs/nlu.md):

- the calibrated softmax probability of the top intent;
- the classifier's margin: top raw score minus the second (x 0.3);
- how close the message's static word vector is to the nearest training example of the
  predicted intent (cosine after removing the training vectors' mean direction);
- how densely the predicted intent's examples surround the message compared with generic
  messages about every topic (`background.TopicDensity`: a clipped log kernel density ratio
  over topic vectors).

The score is mapped onto [0, 1] by where it falls among in-domain messages the classifier had
not seen in training (the calibration fifth, or out-of-fold predictions on small data):
confidence 0.3 is the score below which `LOSS_AT_03` of correctly classified in-domain messages
fall, 0.7 the one for `LOSS_AT_07`, 0.97 their median (on small data never below the second
lowest: one odd example must not make every message confident). So a Rasa project's
`FallbackClassifier` threshold between 0.3 and 0.7 loses about as few in-domain messages in a
10-intent assistant as in a 150-intent one. Nonsense is caught apart from that: the
confidence is 0 when fewer than 40 % of a message's words occur in the training data (a whole
word of the word-piece vocabulary counts half; a misspelt training word is read as that word,
`near_words`), so gibberish, emoji, an empty text or another language fall back in an assistant
of any size, and `helo` or `whats the wheather` do not.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from parley.nlu.background import TopicDensity
from parley.nlu.class_rows import grouped_by_class, unit_rows
from parley.nlu.near_words import NearWords

# z = top probability + MARGIN_WEIGHT * margin + NEIGHBOUR_WEIGHT * nearest-neighbour cosine
MARGIN_WEIGHT = 0.3
NEIGHBOUR_WEIGHT = 1.0
# + BACKGROUND_WEIGHT * the log density ratio (predicted intent's examples / background)
BACKGROUND_WEIGHT = 1.0
LOSS_AT_03 = 0.002
LOSS_AT_07 = 0.01
TYPICAL = 0.5  # the median correctly classified in-domain message gets confidence 0.97
TYPICAL_CONFIDENCE = 0.97
# With too few calibration messages to place the quantiles, these scores (HWU64's) are used.
DEFAULT_Z_03 = 1.0
DEFAULT_Z_07 = 1.1
DEFAULT_Z_TYPICAL = 2.2
MIN_SPREAD = 0.05
CALIBRATED_SPREAD = DEFAULT_Z_07 - DEFAULT_Z_03  # at least HWU64's between the 0.3 and 0.7 anchors
# correctly classified held-out messages needed to place the anchors (fewer: HWU64's)
MIN_CALIBRATION = 10
# the anchors lie at or above the score of the correctly classified held-out message this many
# places above the lowest
OUTLIERS_IGNORED = 1
# confidence 0 when under 40 % of the words were seen in training (all or nothing, so
# that the Rasa thresholds 0.3-0.7 all treat such a message alike)
KNOWN_FLOOR = 0.4
MIN_CONFIDENCE = 1e-6
VOCABULARY_WORD = 0.5  # a word not in the training data but a whole word piece counts half
_LOGIT_07 = math.log(0.7 / 0.3)
_LOGIT_TYPICAL = math.log(TYPICAL_CONFIDENCE / (1 - TYPICAL_CONFIDENCE))


_WORD = re.compile(r"[^\W_]+")


def words_of(text: str) -> list[str]:
    """The lower-cased runs of letters and digits of `text` (`bye-bye!` -> bye, bye)."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class HeldOut:
    """Raw class scores of training rows `rows` predicted by a model that did not see them."""

    rows: np.ndarray
    scores: np.ndarray
    # the fold of each row (rows of a fold were predicted by a model without that fold); None:
    # one fold
    folds: np.ndarray | None = None


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=-1, keepdims=True))


def margins(scores: np.ndarray) -> np.ndarray:
    """Top score minus the second, per row (the top score alone when there is one class)."""
    if scores.shape[-1] < 2:
        return np.asarray(scores.max(axis=-1))
    top2 = np.partition(scores, -2, axis=-1)[..., -2:]
    return np.asarray(top2[..., 1] - top2[..., 0])


class InDomainScore:
    """Per-class training vectors (mean removed, unit length) and the score -> confidence map."""

    def __init__(
        self,
        mean: np.ndarray,
        vectors: np.ndarray,
        offsets: np.ndarray,
        z_03: float,
        z_07: float,
        words: frozenset[str] = frozenset(),
        z_typical: float | None = None,
        topic: TopicDensity | None = None,
    ) -> None:
        self.words = words  # lower-cased words of the training examples
        self.near_words = NearWords(words)  # and their misspelt or run-together forms
        self.topic = topic  # None: no comparison with the background messages
        self.mean = mean
        # rows grouped by class (class c: rows offsets[c]:offsets[c+1]); float16 precision, as
        # stored, so that a loaded model gives the confidences the trained one gave
        self.vectors = np.asarray(vectors, np.float16).astype(np.float32)
        self.offsets = offsets
        self.z_03 = z_03
        self.z_07 = max(z_07, z_03 + MIN_SPREAD)
        typical = self.z_07 + (DEFAULT_Z_TYPICAL - DEFAULT_Z_07) if z_typical is None else z_typical
        self.z_typical = max(typical, self.z_07 + MIN_SPREAD)

    @classmethod
    def train(
        cls,
        vectors: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        held_out: HeldOut | None,
        temperature: float,
        words: frozenset[str] = frozenset(),
        topics: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> InDomainScore:
        """`vectors`: the training messages' static vectors; `y` their class indices;
        `temperature` the classifier's softmax temperature; `words` the training words;
        `topics` their topic vectors and the background's (`background.topic_vectors`,
        `background.background_vectors`), or None to leave the background out."""
        mean = vectors.mean(axis=0).astype(np.float32)
        centred, offsets = grouped_by_class(vectors, y, n_classes, mean)
        topic = None if topics is None else TopicDensity.fit(topics[0], y, n_classes, topics[1])
        z_03, z_07, typical = DEFAULT_Z_03, DEFAULT_Z_07, DEFAULT_Z_TYPICAL
        if held_out is not None:
            calibrated = cls._anchors(
                vectors, y, n_classes, held_out, temperature, mean, topics, topic
            )
            if calibrated is not None:
                z_03, z_07, typical = calibrated
        return cls(mean, centred, offsets, z_03, z_07, words, typical, topic)

    @classmethod
    def _anchors(
        cls,
        vectors: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        held_out: HeldOut,
        temperature: float,
        mean: np.ndarray,
        topics: tuple[np.ndarray, np.ndarray] | None,
        topic: TopicDensity | None,
    ) -> tuple[float, float, float] | None:
        """The scores for confidence 0.3, 0.7 and the typical one, placed by the held-out
        messages (None: too few of them right, HWU64's defaults stay)."""
        # each held-out row is compared with the rows of the other folds only (as a new message
        # would be with the training examples)
        folds = np.zeros(len(held_out.rows), int) if held_out.folds is None else held_out.folds
        z = np.empty(len(held_out.rows))
        for fold in np.unique(folds):
            part = folds == fold
            rows = held_out.rows[part]
            seen = np.ones(len(y), dtype=bool)
            seen[rows] = False
            grouped = grouped_by_class(vectors[seen], y[seen], n_classes, mean)
            seen_topic = None
            if topics is not None and topic is not None:  # the fitted background, its examples
                rows_and_offsets = grouped_by_class(topics[0][seen], y[seen], n_classes, topic.mean)
                seen_topic = topic.with_examples(*rows_and_offsets)
            calibration = cls(mean, *grouped, 0.0, 1.0, topic=seen_topic)
            held_topics = None if topics is None else topics[0][rows]
            z[part] = calibration.raw(
                held_out.scores[part], vectors[rows], temperature, held_topics
            )
        predicted = held_out.scores.argmax(axis=1)
        right = np.sort(z[predicted == y[held_out.rows]])
        if len(right) >= MIN_CALIBRATION:
            z_03, z_07, typical = np.quantile(right, [LOSS_AT_03, LOSS_AT_07, TYPICAL])
            # on small data these quantiles are the lowest message's score: one message, often
            # right by luck (no word of it in the training data, the largest intent guessed),
            # must not move the anchors for all
            z_03, z_07 = max(z_03, right[OUTLIERS_IGNORED]), max(z_07, right[OUTLIERS_IGNORED])
            # with few messages both quantiles are about the lowest: 0.3 goes below it, so that
            # a message like the hardest in-domain one is not between 0.3 and 0.7 by chance
            z_03 = min(z_03, z_07 - CALIBRATED_SPREAD)
            return float(z_03), float(z_07), float(typical)
        return None

    def neighbours(self, predicted: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """Cosine of each vector to the nearest training vector of its predicted class."""
        centred = unit_rows(np.atleast_2d(vectors) - self.mean)
        out = np.zeros(len(centred), np.float32)
        for row, label in enumerate(np.atleast_1d(predicted)):
            start, end = self.offsets[label], self.offsets[label + 1]
            if end > start and centred[row].any():
                out[row] = float((self.vectors[start:end] @ centred[row]).max())
        return out

    def raw(
        self,
        scores: np.ndarray,
        vectors: np.ndarray,
        temperature: float,
        topic_vectors: np.ndarray | None = None,
    ) -> np.ndarray:
        """The uncalibrated score z of each row of class scores with its message's static
        vector (and topic vector, when the score compares topics)."""
        scores = np.atleast_2d(scores)
        top = softmax(scores, temperature).max(axis=1)
        predicted = scores.argmax(axis=1)
        near = self.neighbours(predicted, vectors)
        z = top + MARGIN_WEIGHT * margins(scores) + NEIGHBOUR_WEIGHT * near
        if self.topic is not None and topic_vectors is not None:
            z = z + BACKGROUND_WEIGHT * self.topic.ratios(predicted, topic_vectors)
        return np.asarray(z)

    def known_share(self, words: list[str], vocabulary: Callable[[str], bool]) -> float:
        """Share of the message's `words` (`words_of`; misspelt training words already read as
        them, `near_words`) seen in training; a word with a digit counts as seen (numbers,
        times, codes are entity values), one that is only a whole word of the `vocabulary`
        (the word pieces') as half seen."""
        if not words:
            return 0.0
        if not self.words:  # a model without the word list: no nonsense check
            return 1.0
        seen = 0.0
        for word in words:
            if word in self.words or any(ch.isdigit() for ch in word):
                seen += 1.0
            elif vocabulary(word):
                seen += VOCABULARY_WORD
        return seen / len(words)

    def confidence(
        self,
        scores: np.ndarray,
        vector: np.ndarray,
        temperature: float,
        words: list[str],
        vocabulary: Callable[[str], bool],
        topic_vector: np.ndarray | None = None,
    ) -> float:
        """Confidence in the top class of one message's raw `scores`, its static `vector`,
        `words` and `topic_vector` (0 for a message without a known word piece or word)."""
        if self.known_share(words, vocabulary) < KNOWN_FLOOR or not vector.any():
            return 0.0
        return self.from_raw(float(self.raw(scores, vector, temperature, topic_vector)[0]))

    def from_raw(self, z: float) -> float:
        """The confidence of score `z`: its logit is piecewise linear through the anchors
        (z_03, 0.3), (z_07, 0.7), (z_typical, TYPICAL_CONFIDENCE), extended by the end slopes
        (so confidences keep their order instead of all saturating at 1.0)."""
        if z <= self.z_07:
            logit = _LOGIT_07 * (2 * (z - self.z_03) / (self.z_07 - self.z_03) - 1)
        else:
            slope = (_LOGIT_TYPICAL - _LOGIT_07) / (self.z_typical - self.z_07)
            logit = _LOGIT_07 + slope * (z - self.z_07)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))

    def persist(self, folder: Path, prefix: str) -> None:
        np.save(folder / f"{prefix}_mean.npy", self.mean)
        np.save(folder / f"{prefix}_vectors.npy", self.vectors.astype(np.float16))
        np.save(folder / f"{prefix}_offsets.npy", self.offsets)
        if self.topic is not None:
            self.topic.persist(folder, f"{prefix}_topic")
        meta = {
            "z_03": self.z_03,
            "z_07": self.z_07,
            "z_typical": self.z_typical,
            "words": sorted(self.words),
        }
        (folder / f"{prefix}.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, folder: Path, prefix: str) -> InDomainScore | None:
        if not (folder / f"{prefix}.json").is_file():
            return None  # a model trained before Parley had this score
        meta = json.loads((folder / f"{prefix}.json").read_text())
        mean, vectors, offsets = (
            np.load(folder / f"{prefix}_{part}.npy", allow_pickle=False)
            for part in ("mean", "vectors", "offsets")
        )
        words = frozenset(meta.get("words") or ())
        z_03, z_07, typical = (float(meta[k]) for k in ("z_03", "z_07", "z_typical"))
        topic = TopicDensity.load(folder, f"{prefix}_topic")
        return cls(mean, vectors, offsets, z_03, z_07, words, typical, topic)


def rescale_ranking(probabilities: np.ndarray, confidence: float) -> np.ndarray:
    """The top class gets `confidence`; the others share the rest as the softmax shared it, each
    staying below the top (so the ranking keeps its order, and sums to 1 whenever it can)."""
    top = int(probabilities.argmax())
    confidence = max(confidence, MIN_CONFIDENCE)  # > 0: the others can stay below it
    rest = 1.0 - float(probabilities[top])
    others = np.delete(probabilities, top)
    second = float(others.max()) if len(others) else 0.0
    factor = (1.0 - confidence) / rest if rest > 1e-12 else 0.0
    if second > 0.0:
        factor = min(factor, confidence / second)
    out = probabilities * factor * (1.0 - 1e-6)
    out[top] = confidence
    return np.asarray(out)
