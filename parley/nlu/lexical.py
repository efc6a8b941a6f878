"""Token-level features that DIET sees besides the n-grams, summed into sentence features.

- Lexical/syntactic features (Rasa's LexicalSyntacticFeaturizer): for each token and each
  position of a window around it, the configured functions of the token there (`low`, `title`,
  `upper`, `digit`, `BOS`, `EOS`, prefixes, suffixes), one-hot as `offset:function:value`.
  Rasa keeps them per token for DIET's transformer; a linear classifier gets their counts.
- Entity features: what DIET learns jointly from the entity annotations — a token is a value
  annotated for entity type T, has the digit shape of T's annotated values (`5` for a
  `quantity` annotated on `3`), and the whole message is such entity tokens (a short answer in
  a form). They let `5` mean `inform` when `inform`'s examples annotate numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from parley.nlu.message import Token
from parley.project.entities import EntityAnnotation

_FUNCTIONS: dict[str, Callable[[str], object]] = {
    "low": str.islower,
    "title": str.istitle,
    "upper": str.isupper,
    "digit": str.isdigit,
    "prefix5": lambda text: text[:5],
    "prefix2": lambda text: text[:2],
    "suffix5": lambda text: text[-5:],
    "suffix3": lambda text: text[-3:],
    "suffix2": lambda text: text[-2:],
    "suffix1": lambda text: text[-1:],
}
POSITIONAL = ("BOS", "EOS")
NEEDS_SPACY = ("pos", "pos2")  # part-of-speech tags: accepted, no feature without spaCy
KNOWN = frozenset(_FUNCTIONS) | set(POSITIONAL) | set(NEEDS_SPACY)


def unknown_functions(windows: Iterable[Iterable[str]]) -> list[str]:
    """Names in a `features:` option that are no LexicalSyntacticFeaturizer function."""
    return sorted({name for window in windows for name in window if name not in KNOWN})


def lexical_grams(words: list[Token], windows: tuple[tuple[str, ...], ...]) -> list[str]:
    """The `offset:function:value` features of every word, for a window of any odd length."""
    out: list[str] = []
    half = len(windows) // 2
    last = len(words) - 1
    for i in range(len(words)):
        for position, names in enumerate(windows):
            offset = position - half
            j = i + offset
            if j < 0 or j > last:
                continue
            text = words[j].text
            for name in names:
                if name == "BOS":
                    value: object = j == 0
                elif name == "EOS":
                    value = j == last
                elif name in _FUNCTIONS:
                    value = _FUNCTIONS[name](text)
                else:
                    continue
                out.append(f"{offset}:{name}:{value}")
    return out


def word_shape(text: str) -> str:
    """Digits -> d, upper -> X, lower -> x, other characters kept; runs collapsed (`10.5` ->
    `d.d`), so numbers of any length share a shape."""
    shape: list[str] = []
    for char in text:
        mapped = (
            "d" if char.isdigit() else "X" if char.isupper() else "x" if char.isalpha() else char
        )
        if not shape or shape[-1] != mapped:
            shape.append(mapped)
    return "".join(shape)


@dataclass(frozen=True)
class EntityGazetteer:
    """Per entity type: the lower-cased words of its annotated values and their digit shapes."""

    values: dict[str, frozenset[str]]
    shapes: dict[str, frozenset[str]]

    @classmethod
    def learn(
        cls, texts: list[str], annotations: list[tuple[EntityAnnotation, ...]]
    ) -> EntityGazetteer:
        values: dict[str, set[str]] = {}
        shapes: dict[str, set[str]] = {}
        for text, entities in zip(texts, annotations, strict=True):
            for entity in entities:
                for word in text[entity.start : entity.end].split():
                    values.setdefault(entity.entity, set()).add(word.lower())
                    shape = word_shape(word)
                    if "d" in shape:
                        shapes.setdefault(entity.entity, set()).add(shape)
        return cls(
            {k: frozenset(v) for k, v in values.items()},
            {k: frozenset(v) for k, v in shapes.items()},
        )

    def as_json(self) -> dict[str, dict[str, list[str]]]:
        return {
            "values": {k: sorted(v) for k, v in sorted(self.values.items())},
            "shapes": {k: sorted(v) for k, v in sorted(self.shapes.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, dict[str, list[str]]]) -> EntityGazetteer:
        return cls(
            {k: frozenset(v) for k, v in data.get("values", {}).items()},
            {k: frozenset(v) for k, v in data.get("shapes", {}).items()},
        )

    def grams(self, words: list[Token]) -> list[str]:
        """`value:T` / `shape:T` per matching word, `all:T` when every word matches T, and per
        word `entity` or `word`: normalised, their counts are the share of entity-like words
        (high in short answers such as `5`, low in sentences that mention a number)."""
        out: list[str] = []
        matched_by: dict[str, int] = {}
        for word in words:
            before = len(out)
            lower = word.text.lower()
            shape = word_shape(word.text)
            for entity, values in self.values.items():
                hit = False
                if lower in values:
                    out.append(f"value:{entity}")
                    hit = True
                if "d" in shape and shape in self.shapes.get(entity, ()):
                    out.append(f"shape:{entity}")
                    hit = True
                if hit:
                    matched_by[entity] = matched_by.get(entity, 0) + 1
            out.append("entity" if len(out) > before else "word")
        out += [f"all:{entity}" for entity, n in matched_by.items() if words and n == len(words)]
        return out
