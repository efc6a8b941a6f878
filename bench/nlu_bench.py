"""NLU benchmark: HWU64 and SNIPS (official train/test), default and embeddings pipelines.

`make bench-nlu` -> bench/results/nlu.json and plots under bench/results/nlu/. Each run is its
own process so that its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DATASETS = next(
    (p / "shared" / "datasets" for p in ROOT.parents if (p / "shared" / "datasets").is_dir()),
    ROOT.parent / "shared" / "datasets",
)
# The default pipeline (registry.DEFAULT_PIPELINE) without its FallbackClassifier, so that every
# message gets an intent; the embeddings pipeline is the same plus SentenceEmbeddingFeaturizer.
PIPELINES = ("default", "embeddings")


def pipeline_components(pipeline_name: str) -> tuple[Any, ...]:
    from parley.nlu.registry import DEFAULT_PIPELINE
    from parley.project.config import ComponentConfig

    components = [c for c in DEFAULT_PIPELINE if c.name != "FallbackClassifier"]
    if pipeline_name == "embeddings":
        before = next(i for i, c in enumerate(components) if c.name == "DIETClassifier")
        components.insert(before, ComponentConfig("SentenceEmbeddingFeaturizer"))
    return tuple(components)


def run_one(dataset: str, pipeline_name: str) -> dict[str, Any]:
    from sklearn.metrics import f1_score

    from parley.nlu.evaluate import evaluate
    from parley.nlu.pipeline import Pipeline
    from parley.nlu.plots import plot_confidence_histogram, plot_confusion_matrix
    from parley.project.config import ProjectConfig
    from parley.project.loader import load_nlu_data

    train = load_nlu_data([DATASETS / dataset / "train.yml"])
    test = load_nlu_data([DATASETS / dataset / "test.yml"])
    config = ProjectConfig(pipeline=pipeline_components(pipeline_name))
    if pipeline_name == "embeddings":
        from parley.nlu.encoder_graph import encoder_graph

        encoder_graph()  # exported once per installation (cached), not per training
    started = time.perf_counter()
    pipeline = Pipeline.train(config, train)
    train_seconds = time.perf_counter() - started
    for example in test.examples[:20]:  # warm-up
        pipeline.parse(example.text)
    result = evaluate(pipeline, test.examples)
    latencies_ms = np.array(result.latencies) * 1000
    folder = RESULTS / "nlu"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{dataset}-{pipeline_name}"
    plot_confusion_matrix(
        result.gold_intents, result.predicted_intents, folder / f"{stem}-confusion.png"
    )
    plot_confidence_histogram(
        result.gold_intents,
        result.predicted_intents,
        result.confidences,
        folder / f"{stem}-confidence.png",
    )
    has_entities = any(e.entities for e in test.examples)
    return {
        "dataset": dataset,
        "pipeline": pipeline_name,
        "train_examples": len(train.examples),
        "test_examples": len(test.examples),
        "intent_accuracy": round(result.intent_report()["accuracy"], 4),
        # as if Rasa's default FallbackClassifier (0.3, ambiguity 0.1) ran, fallbacks counted wrong
        "intent_accuracy_fallback_0.3": round(
            float(
                np.mean(
                    [
                        g == p and c >= 0.3 and gap >= 0.1
                        for g, p, c, gap in zip(
                            result.gold_intents,
                            result.raw_intents,
                            result.raw_confidences,
                            result.raw_gaps,
                            strict=True,
                        )
                    ]
                )
            ),
            4,
        ),
        "intent_macro_f1": round(
            float(f1_score(result.gold_intents, result.predicted_intents, average="macro")), 4
        ),
        "entity_micro_f1": round(result.entity_report()["micro avg"]["f1-score"], 4)
        if has_entities
        else None,
        "train_seconds": round(train_seconds, 2),
        "parse_ms_p50": round(float(np.percentile(latencies_ms, 50)), 3),
        "parse_ms_p99": round(float(np.percentile(latencies_ms, 99)), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _embeddings_installed() -> bool:
    try:
        from parley.nlu.embeddings import embeddings_available
    except ImportError:
        return False
    return embeddings_available()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", nargs=2, metavar=("DATASET", "PIPELINE"))
    parser.add_argument("--datasets", nargs="*", default=["hwu64", "snips"])
    parser.add_argument("--pipelines", nargs="*", default=list(PIPELINES))
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_one(*args.run)))
        return
    runs = []
    for pipeline_name in args.pipelines:
        if pipeline_name == "embeddings" and not _embeddings_installed():
            print("embeddings: parley[embeddings] not installed; skipped", file=sys.stderr)
            continue
        for dataset in args.datasets:
            out = subprocess.run(
                [sys.executable, __file__, "--run", dataset, pipeline_name],
                check=True,
                capture_output=True,
                text=True,
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])
            row["load_average_1m_after"] = round(os.getloadavg()[0], 2)
            print(json.dumps(row), flush=True)
            runs.append(row)
            _write(runs)  # after each run, so a long benchmark keeps what it measured


def _write(runs: list[dict[str, Any]]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": {
            "cpus": len(os.sched_getaffinity(0)),
            "python": platform.python_version(),
            "note": "load_average_1m_after > cpus means other work shared the CPUs (timings"
            " inflated)",
        },
        "targets": {
            "default": "HWU64 acc >= 0.90 (also with fallback 0.3 counted wrong); SNIPS acc >="
            " 0.985, entity F1 >= 0.93; HWU64 train <= 10 s; parse p50 <= 1 ms, p99 <= 5 ms",
            "embeddings": "HWU64 acc >= 0.92; train <= 60 s; parse p50 <= 10 ms",
        },
        "runs": runs,
    }
    (RESULTS / "nlu.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
