"""Open-intent benchmark: does the NLU know when a message is about none of its intents?

For HWU64 (64 intents) and SNIPS (7 intents): train the default pipeline (without its
FallbackClassifier) on the train examples of 75 % and of 50 % of the intents (3 seeded splits
each); parse every test message, those of the held-out intents labelled out-of-scope. Reported
per run and averaged: AUROC of the top confidence (known vs out-of-scope), known-intent accuracy,
and at Rasa's usual thresholds (FallbackClassifier 0.3 / 0.7 with ambiguity 0.1) OOS recall and
the fallback rate on known-intent messages; the threshold where known-intent accuracy (fallbacks
counted wrong) drops by at most 1 point and the OOS recall there; the same for the calibrated
softmax alone ("softmax", what Parley reported before). `bench/results/nlu_oos.json` and the
curves in `bench/results/nlu/oos-*.png`. Also, for each Rasa project in `../shared/examples`,
the share of its in-domain messages (5-fold cross-validation, its own pipeline) that fall back at
FallbackClassifier thresholds 0.3 ... 0.7: a Rasa threshold must keep its meaning.

`python bench/nlu_oos_bench.py [--datasets hwu64 snips] [--fractions 0.75 0.5] [--seeds 0 1 2]
[--examples moodbot ...] [--examples-only]`; `--examples-only` measures the example projects
alone and replaces only that section of an existing `nlu_oos.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.nlu_bench import DATASETS, RESULTS, pipeline_components  # noqa: E402

THRESHOLDS = (0.3, 0.7)
AMBIGUITY = 0.1


def known_split(intents: list[str], fraction: float, seed: int) -> set[str]:
    rng = np.random.default_rng(seed)
    chosen = rng.choice(intents, size=round(fraction * len(intents)), replace=False)
    return {str(name) for name in chosen}


def run_one(dataset: str, fraction: float, seed: int) -> dict[str, Any]:
    from parley.nlu.component import message_features
    from parley.nlu.in_domain import softmax
    from parley.nlu.oos import open_set_report
    from parley.nlu.pipeline import Pipeline
    from parley.project.config import ProjectConfig
    from parley.project.loader import load_nlu_data
    from parley.project.nlu_data import NLUData

    train = load_nlu_data([DATASETS / dataset / "train.yml"])
    test = load_nlu_data([DATASETS / dataset / "test.yml"])
    known = known_split(sorted({e.base_intent for e in train.examples}), fraction, seed)
    subset = NLUData(
        tuple(e for e in train.examples if e.base_intent in known),
        train.synonyms,
        train.regexes,
        train.lookups,
    )
    config = ProjectConfig(pipeline=pipeline_components("default"))
    started = time.perf_counter()
    pipeline = Pipeline.train(config, subset)
    train_seconds = time.perf_counter() - started
    classifier = next(c for c in pipeline.components if c.kind == "linear_intent")
    model = classifier.model  # type: ignore[attr-defined]
    gold, predicted, confidence, gaps, softmax_top, softmax_gaps = [], [], [], [], [], []
    for example in test.examples:
        message = pipeline.process(example.text)
        ranking = message.intent_ranking
        gold.append(example.base_intent if example.base_intent in known else None)
        predicted.append(message.intent["name"])
        confidence.append(float(message.intent["confidence"]))
        gaps.append(confidence[-1] - (ranking[1]["confidence"] if len(ranking) > 1 else 0.0))
        scores = model.scores(*message_features(message, classifier.sparse_size), message.static)
        probs = np.sort(softmax(scores, model.temperature))
        softmax_top.append(float(probs[-1]))
        softmax_gaps.append(float(probs[-1] - probs[-2]))
    row: dict[str, Any] = {
        "dataset": dataset,
        "known_fraction": fraction,
        "seed": seed,
        "known_intents": len(known),
        "train_seconds": round(train_seconds, 2),
    }
    for name, conf, gap in (("parley", confidence, gaps), ("softmax", softmax_top, softmax_gaps)):
        row[name] = open_set_report(gold, predicted, conf, gap, THRESHOLDS, AMBIGUITY)
    return row


EXAMPLES = DATASETS.parent / "examples"
RASA_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def example_without_fallback(name: str) -> tuple[Any, Any]:
    """An example project's config (its FallbackClassifier removed, so every message gets an
    intent) and NLU training data."""
    from dataclasses import replace

    from parley.nlu.part import training_data
    from parley.project.loader import load_project

    project = load_project(EXAMPLES / name)
    listed = project.config.pipeline or pipeline_components("default")
    components = tuple(c for c in listed if c.name != "FallbackClassifier")
    return replace(project.config, pipeline=components), training_data(project)


def fold_training_data(data: Any, rows: list[int], held_out_from: set[int]) -> Any:
    """The examples `rows` of `data` plus those never held out (not in `held_out_from`: intents
    with too few examples for the folds), with its synonyms, regexes and lookups."""
    from parley.project.nlu_data import NLUData

    examples = data.examples
    return NLUData(
        tuple(examples[i] for i in rows)
        + tuple(e for i, e in enumerate(examples) if i not in held_out_from),
        data.synonyms,
        data.regexes,
        data.lookups,
    )


def example_thresholds(name: str, folds: int = 5, shuffles: int = 3) -> dict[str, Any] | None:
    """A Rasa project's own pipeline (its FallbackClassifier removed), k-fold cross-validated
    over `shuffles` seeded shuffles: the share of its in-domain messages that fall back at each
    Rasa threshold (ambiguity 0.1). With a few dozen messages one message is 1.5-3 points, so
    each shuffle is reported and their mean is the figure."""

    from sklearn.model_selection import StratifiedKFold

    from parley.nlu.pipeline import Pipeline

    try:
        config, data = example_without_fallback(name)
        examples = list(data.examples)
        labels = [e.base_intent for e in examples]
        keep = [i for i, label in enumerate(labels) if labels.count(label) >= folds]
        kept = set(keep)
        per_shuffle = []
        for seed in range(shuffles):
            splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
            confidence, gap, right = [], [], []
            for train_rows, test_rows in splitter.split(keep, [labels[i] for i in keep]):
                train = fold_training_data(data, [keep[i] for i in train_rows], kept)
                pipeline = Pipeline.train(config, train)
                for i in test_rows:
                    parsed = pipeline.parse(examples[keep[i]].text)
                    ranking = parsed["intent_ranking"]
                    confidence.append(float(parsed["intent"]["confidence"] or 0.0))
                    second = float(ranking[1]["confidence"]) if len(ranking) > 1 else 0.0
                    gap.append(confidence[-1] - second)
                    right.append(parsed["intent"]["name"] == labels[keep[i]])
            per_shuffle.append((np.array(confidence), np.array(gap), np.array(right)))
    except Exception as error:  # an example Parley cannot train yet is reported, not fatal
        return {"example": name, "error": str(error).splitlines()[0][:200]}

    def rates(conf: np.ndarray, gaps: np.ndarray) -> dict[str, float]:
        return {str(t): float(((conf < t) | (gaps < AMBIGUITY)).mean()) for t in RASA_THRESHOLDS}

    shuffled = [rates(conf, gaps) for conf, gaps, _ in per_shuffle]
    mean_rates = {t: round(float(np.mean([r[t] for r in shuffled])), 4) for t in shuffled[0]}
    return {
        "example": name,
        "messages": len(per_shuffle[0][0]),
        "shuffles": shuffles,
        "accuracy": round(float(np.mean([ok.mean() for _, _, ok in per_shuffle])), 4),
        "fallback_rate": mean_rates,
        "spread_points": round(100 * (mean_rates["0.7"] - mean_rates["0.3"]), 2),
        "spread_points_per_shuffle": [round(100 * (r["0.7"] - r["0.3"]), 2) for r in shuffled],
    }


# HWU64 intents of scenarios none of the off-topic projects covers (no greetings, weather,
# music, alarms, calendars, recommendations, restaurants or takeaway), per project minus the
# intents near one of its own
OFF_TOPIC_INTENTS = (
    "qa_factoid",
    "qa_definition",
    "qa_maths",
    "qa_currency",
    "qa_stock",
    "cooking_recipe",
    "news_query",
    "transport_query",
    "transport_taxi",
    "transport_ticket",
    "transport_traffic",
    "lists_createoradd",
    "lists_query",
    "lists_remove",
    "iot_cleaning",
    "iot_coffee",
    "iot_hue_lightchange",
    "iot_hue_lightdim",
    "iot_hue_lightoff",
    "iot_hue_lighton",
    "iot_hue_lightup",
    "iot_wemo_off",
    "iot_wemo_on",
    "social_post",
    "social_query",
    "datetime_query",
    "datetime_convert",
    "play_audiobook",
    "play_podcasts",
    "play_game",
    "email_query",
    "email_querycontact",
    "email_sendemail",
    "email_addcontact",
)
OFF_TOPIC_EXCLUDED = {
    "helpdesk": ("email_",),  # its problem_email intent
    "reminderbot": ("lists_", "datetime_"),  # reminders
    "snips": ("play_",),  # SearchCreativeWork, PlayMusic
}
OFF_TOPIC_PROJECTS = (
    "concertbot",
    "e2ebot",
    "formbot",
    "helpdesk",
    "moodbot",
    "reminderbot",
    "responseselectorbot",
    "snips",
)


def off_topic_messages(project: str) -> list[str]:
    from parley.project.loader import load_nlu_data

    excluded = OFF_TOPIC_EXCLUDED.get(project, ())
    wanted = {i for i in OFF_TOPIC_INTENTS if not i.startswith(excluded)}
    test = load_nlu_data([DATASETS / "hwu64" / "test.yml"])
    return [e.text for e in test.examples if e.base_intent in wanted]


def without_background(components: tuple[Any, ...]) -> tuple[Any, ...]:
    """The pipeline with its intent classifier told not to use the background messages."""
    from dataclasses import replace

    return tuple(
        replace(c, options={**c.options, "background_messages": False})
        if c.name in ("DIETClassifier", "LinearIntentClassifier")
        else c
        for c in components
    )


def off_topic_run(name: str, folds: int = 5, background: bool = True) -> dict[str, Any]:
    """In-domain messages (k-fold) of a project and off-topic HWU64 messages (each fold's model
    parses a fold of them): AUROC, in-domain fallback and off-topic recall at Rasa thresholds;
    `background` False: without the background messages (what Parley did before)."""
    from dataclasses import replace

    from sklearn.model_selection import StratifiedKFold

    from parley.nlu.oos import open_set_report
    from parley.nlu.pipeline import Pipeline
    from parley.project.config import ProjectConfig
    from parley.project.loader import load_nlu_data

    if name == "snips":
        data = load_nlu_data([DATASETS / "snips" / "train.yml"])
        config = ProjectConfig(pipeline=pipeline_components("default"))
    else:
        config, data = example_without_fallback(name)
    if not background:
        config = replace(config, pipeline=without_background(config.pipeline))
    examples = list(data.examples)
    labels = [e.base_intent for e in examples]
    keep = [i for i, label in enumerate(labels) if labels.count(label) >= folds]
    outside = off_topic_messages(name)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    gold: list[str | None] = []
    predicted: list[str | None] = []
    confidence: list[float] = []
    gap: list[float] = []
    kept = set(keep)
    for fold, (train_rows, test_rows) in enumerate(splitter.split(keep, [labels[i] for i in keep])):
        if name == "snips" and fold > 0:
            break  # one fold of SNIPS' 13,784 messages is plenty
        train = fold_training_data(data, [keep[i] for i in train_rows], kept)
        pipeline = Pipeline.train(config, train)
        share = outside if name == "snips" else outside[fold::folds]
        texts = [examples[keep[i]].text for i in test_rows] + share
        golds = [labels[keep[i]] for i in test_rows] + [None] * len(share)
        for text, label in zip(texts, golds, strict=True):
            parsed = pipeline.parse(text)
            ranking = parsed["intent_ranking"]
            conf = float(parsed["intent"]["confidence"] or 0.0)
            second = float(ranking[1]["confidence"]) if len(ranking) > 1 else 0.0
            gold.append(label)
            predicted.append(parsed["intent"]["name"])
            confidence.append(conf)
            gap.append(conf - second)
    report = open_set_report(gold, predicted, confidence, gap, THRESHOLDS, AMBIGUITY)
    row: dict[str, Any] = {"project": name, "background_messages": background}
    row.update(report)
    return row


def _mean(rows: list[dict[str, Any]], path: tuple[str, ...]) -> float:
    values = []
    for row in rows:
        value: Any = row
        for key in path:
            value = value[key]
        values.append(float(value))
    return round(float(np.mean(values)), 4)


SUMMARY_KEYS = (
    ("auroc",),
    ("known_accuracy",),
    ("at_threshold", "0.3", "oos_recall"),
    ("at_threshold", "0.3", "known_fallback_rate"),
    ("at_threshold", "0.3", "known_accuracy"),
    ("at_threshold", "0.7", "oos_recall"),
    ("at_threshold", "0.7", "known_fallback_rate"),
    ("at_threshold", "0.7", "known_accuracy"),
    ("at_loss", "threshold"),
    ("at_loss", "oos_recall"),
)


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for key in sorted({(r["dataset"], r["known_fraction"]) for r in runs}):
        group = [r for r in runs if (r["dataset"], r["known_fraction"]) == key]
        entry: dict[str, Any] = {"dataset": key[0], "known_fraction": key[1], "runs": len(group)}
        for name in ("parley", "softmax"):
            entry[name] = {"/".join(k): _mean([r[name] for r in group], k) for k in SUMMARY_KEYS}
        out.append(entry)
    return out


def plot(runs: list[dict[str, Any]], folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    for key in sorted({(r["dataset"], r["known_fraction"]) for r in runs}):
        figure, axes = plt.subplots(figsize=(6, 4.5))
        for r in (r for r in runs if (r["dataset"], r["known_fraction"]) == key):
            for name, style in (("parley", "-"), ("softmax", ":")):
                curve = r[name]["curve"]
                axes.plot(
                    [p["known_accuracy"] for p in curve],
                    [p["oos_recall"] for p in curve],
                    style,
                    label=f"{name} seed {r['seed']} (AUROC {r[name]['auroc']:.3f})",
                )
        axes.set_xlabel("known-intent accuracy (fallbacks counted wrong)")
        axes.set_ylabel("out-of-scope recall")
        axes.set_title(f"{key[0]}, {int(key[1] * 100)} % of intents known")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7)
        figure.tight_layout()
        figure.savefig(folder / f"oos-{key[0]}-{int(key[1] * 100)}.png", dpi=100)
        plt.close(figure)


def off_topic_section(names: list[str]) -> dict[str, Any]:
    """Every off-topic project with and without the background messages, and their means."""
    rows = []
    for name in names:
        for background in (True, False):
            row = off_topic_run(name, background=background)
            row["load_average_1m_after"] = round(os.getloadavg()[0], 2)
            brief = {k: row[k] for k in ("project", "background_messages", "auroc")}
            brief["at_0.3"] = row["at_threshold"]["0.3"]
            print(json.dumps(brief), flush=True)
            rows.append(row)
    means = {}
    for background in (True, False):
        group = [r for r in rows if r["background_messages"] is background]
        means["with_background" if background else "without_background"] = {
            "/".join(k): _mean(group, k) for k in SUMMARY_KEYS if k[0] != "at_loss"
        }
    return {
        "what": "in-domain messages of each project (5-fold CV; SNIPS: one fold) against HWU64"
        " test messages of scenarios the project does not cover",
        "mean": means,
        "projects": [{k: v for k, v in r.items() if k != "curve"} for r in rows],
    }


def plot_off_topic(section: dict[str, Any], folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = section["projects"]
    names = list(dict.fromkeys(r["project"] for r in rows))
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    width = 0.38
    for axis, (key, title) in zip(
        axes,
        (
            ("oos_recall", "off-topic messages falling back at 0.3"),
            ("known_fallback_rate", "in-domain messages falling back at 0.3"),
        ),
        strict=True,
    ):
        for shift, background in ((-width / 2, False), (width / 2, True)):
            values = [
                next(
                    r["at_threshold"]["0.3"][key]
                    for r in rows
                    if r["project"] == n and r["background_messages"] is background
                )
                for n in names
            ]
            label = "with background messages" if background else "without"
            axis.bar(np.arange(len(names)) + shift, values, width, label=label)
        axis.set_xticks(np.arange(len(names)), names, rotation=30, ha="right", fontsize=8)
        axis.set_title(title, fontsize=10)
        axis.set_ylim(0, 1)
        axis.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    figure.savefig(folder / "oos-off-topic.png", dpi=100)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", nargs="*", default=["hwu64", "snips"])
    parser.add_argument("--fractions", nargs="*", type=float, default=[0.75, 0.5])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--examples", nargs="*", default=None, help="default: every example")
    parser.add_argument(
        "--off-topic-only",
        action="store_true",
        help="measure only the off-topic projects; keep the other sections of nlu_oos.json",
    )
    parser.add_argument(
        "--examples-only",
        action="store_true",
        help="measure only the example projects; keep the benchmark runs of nlu_oos.json",
    )
    args = parser.parse_args()
    output = RESULTS / "nlu_oos.json"
    if args.off_topic_only:
        kept = json.loads(output.read_text())
        kept["off_topic"] = off_topic_section(list(OFF_TOPIC_PROJECTS))
        plot_off_topic(kept["off_topic"], RESULTS / "nlu")
        output.write_text(json.dumps(kept, indent=1) + "\n")
        return
    names = args.examples
    if names is None:
        names = sorted(p.name for p in EXAMPLES.iterdir() if (p / "config.yml").is_file())
    thresholds = [row for row in map(example_thresholds, names) if row is not None]
    for row in thresholds:
        print(json.dumps(row), flush=True)
    if args.examples_only:
        kept = json.loads(output.read_text())
        kept["rasa_thresholds_on_examples"] = thresholds
        output.write_text(json.dumps(kept, indent=1) + "\n")
        return
    runs = []
    for dataset in args.datasets:
        for fraction in args.fractions:
            for seed in args.seeds:
                row = run_one(dataset, fraction, seed)
                row["load_average_1m_after"] = round(os.getloadavg()[0], 2)
                brief = {k: v for k, v in row.items() if k not in ("parley", "softmax")}
                brief["auroc"] = row["parley"]["auroc"]
                print(json.dumps(brief), flush=True)
                runs.append(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    off_topic = off_topic_section(list(OFF_TOPIC_PROJECTS))
    plot_off_topic(off_topic, RESULTS / "nlu")
    report = {
        "targets": "HWU64 75 % known: AUROC >= 0.93; OOS recall >= 0.65 where known accuracy"
        " drops <= 1 point",
        "rasa_thresholds_on_examples": thresholds,
        "off_topic": off_topic,
        "summary": summarise(runs),
        "runs": runs,
    }
    plot(runs, RESULTS / "nlu")
    output.write_text(json.dumps(thin_curves(report), indent=1) + "\n")


def thin_curves(report: dict[str, Any], keep: int = 25) -> dict[str, Any]:
    """The report with each run's curve cut to about `keep` points (the plots have them all)."""
    for row in report["runs"]:
        for name in ("parley", "softmax"):
            curve = row[name]["curve"]
            step = max(1, len(curve) // keep)
            row[name]["curve"] = curve[::step] + ([curve[-1]] if (len(curve) - 1) % step else [])
    return report


if __name__ == "__main__":
    main()
